package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX Reshape. The target shape is input 1 (the {@code shape} attribute before opset 5); -1 is
 * inferred, 0 copies the input's dimension unless {@code allowzero=1} (opset 14), where it means a
 * zero dimension. Shares the input's data (tensors are immutable). Thread-safe.
 */
public final class ReshapeKernel implements FloatKernel {
    private final long[] attrShape;
    private final boolean allowZero;

    ReshapeKernel(Node node, int opset) {
        attrShape = opset < 5 ? node.attrInts("shape", null) : null;
        allowZero = KernelArgs.oneOf(node, "allowzero", 0, 0, 1) == 1;
    }

    static FloatKernel create(Node node, int opset) {
        return new ReshapeKernel(node, opset);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "data");
        long[] target =
                attrShape != null ? attrShape : KernelArgs.longs(KernelArgs.required(inputs, 1, "shape"), "shape");
        return new Tensor[] {x.reshape(resolve(x.shape(), target, allowZero))};
    }

    /** The concrete shape for a Reshape/ONNX-style target (0 and -1 resolved). */
    static int[] resolve(int[] in, long[] target, boolean allowZero) {
        int[] out = new int[target.length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < target.length; i++) {
            long d = target[i];
            if (d == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("shape " + Arrays.toString(target) + " has more than one -1");
                }
                infer = i;
                continue;
            }
            if (d == 0 && !allowZero) {
                if (i >= in.length) {
                    throw new IllegalArgumentException("shape " + Arrays.toString(target) + " copies dimension " + i
                            + " of an input of rank " + in.length);
                }
                d = in[i];
            }
            if (d < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(target) + " has a negative dimension");
            }
            out[i] = Math.toIntExact(d);
            known *= d;
        }
        long size = 1;
        for (int d : in) {
            size *= d;
        }
        if (infer >= 0) {
            if (known == 0 || size % known != 0) {
                throw new IllegalArgumentException(
                        "cannot reshape " + Arrays.toString(in) + " to " + Arrays.toString(target));
            }
            out[infer] = Math.toIntExact(size / known);
        } else if (known != size) {
            throw new IllegalArgumentException(
                    "cannot reshape " + Arrays.toString(in) + " to " + Arrays.toString(target));
        }
        return out;
    }
}
