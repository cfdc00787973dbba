package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX Transpose: output dimension i is input dimension perm[i]; the default perm reverses the
 * dimensions. Any element type. Stateless and thread-safe.
 */
public final class TransposeKernel implements FloatKernel {
    private final long[] perm;

    private TransposeKernel(long[] perm) {
        this.perm = perm;
    }

    static FloatKernel create(Node node, int opset) {
        return new TransposeKernel(node.attrInts("perm", null));
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "data");
        int r = x.rank();
        int[] p = new int[r];
        if (perm == null) {
            for (int i = 0; i < r; i++) {
                p[i] = r - 1 - i;
            }
        } else {
            boolean[] seen = new boolean[r];
            if (perm.length != r) {
                throw new IllegalArgumentException("perm=" + Arrays.toString(perm) + " does not fit rank " + r);
            }
            for (int i = 0; i < r; i++) {
                p[i] = KernelArgs.axis(perm[i], r, "perm");
                if (seen[p[i]]) {
                    throw new IllegalArgumentException("perm=" + Arrays.toString(perm) + " is not a permutation");
                }
                seen[p[i]] = true;
            }
        }
        return new Tensor[] {permute(x, p)};
    }

    /** x with its dimensions permuted (x's own data when only size-1 dimensions move). */
    static Tensor permute(Tensor x, int[] perm) {
        int[] shape = x.shape();
        int[] inStrides = Shapes.strides(shape);
        int[] strides = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            strides[i] = inStrides[perm[i]];
        }
        return StridedCopy.copy(x, IndexMaps.permute(shape, perm), strides, 0);
    }
}
