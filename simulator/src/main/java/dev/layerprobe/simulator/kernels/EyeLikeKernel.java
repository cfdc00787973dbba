package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX EyeLike: a 2-D tensor of the input's shape with ones on diagonal {@code k} (column - row)
 * and zeros elsewhere, of type {@code dtype} (default: the input's type). Thread-safe.
 */
public final class EyeLikeKernel implements FloatKernel {
    private final long k;
    private final DType dtype;

    private EyeLikeKernel(long k, DType dtype) {
        this.k = k;
        this.dtype = dtype;
    }

    static FloatKernel create(Node node, int opset) {
        DType t = null;
        if (node.attr("dtype") != null) {
            long code = node.attrInt("dtype", 0);
            t = DType.fromOnnx((int) code);
            if (t == null) {
                throw new IllegalArgumentException(
                        "dtype=" + code + " is not supported (valid: " + Arrays.toString(DType.values()) + ")");
            }
        }
        return new EyeLikeKernel(node.attrInt("k", 0), t);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "input");
        if (x.rank() != 2) {
            throw new IllegalArgumentException("input " + Arrays.toString(x.shape()) + " must be 2-D");
        }
        DType t = dtype != null ? dtype : x.dtype();
        int rows = x.dim(0);
        int cols = x.dim(1);
        int n = rows * cols;
        if (t.isFloating()) {
            float[] out = new float[n];
            for (int i = 0; i < rows; i++) {
                long j = i + k;
                if (j >= 0 && j < cols) {
                    out[i * cols + (int) j] = 1f;
                }
            }
            return new Tensor[] {Tensor.ofFloats(t, x.shape(), out)};
        }
        long[] out = new long[n];
        for (int i = 0; i < rows; i++) {
            long j = i + k;
            if (j >= 0 && j < cols) {
                out[i * cols + (int) j] = 1;
            }
        }
        return new Tensor[] {Tensor.ofLongs(t, x.shape(), out)};
    }
}
