package dev.layerprobe.simulator.kernels;

import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.tensor.Tensor;
import java.util.Arrays;

/**
 * ONNX Gemm in float32: Y = alpha * A' B' + beta * C, where A' and B' are A and B optionally
 * transposed and C (optional since opset 11) broadcasts to [M, N]. The product accumulates in
 * float32 in the order of {@link MatMulKernel}; alpha and beta are applied after. Stateless and
 * thread-safe.
 */
public final class GemmKernel implements FloatKernel {
    private final float alpha;
    private final float beta;
    private final boolean transA;
    private final boolean transB;

    GemmKernel(Node node) {
        alpha = node.attrFloat("alpha", 1f);
        beta = node.attrFloat("beta", 1f);
        transA = KernelArgs.oneOf(node, "transA", 0, 0, 1) == 1;
        transB = KernelArgs.oneOf(node, "transB", 0, 0, 1) == 1;
    }

    static FloatKernel create(Node node, int opset) {
        return new GemmKernel(node);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor a = KernelArgs.required(inputs, 0, "A");
        Tensor b = KernelArgs.required(inputs, 1, "B");
        Tensor c = KernelArgs.optional(inputs, 2);
        KernelArgs.requireFloating(a, "A");
        KernelArgs.requireFloating(b, "B");
        if (a.rank() != 2 || b.rank() != 2) {
            throw new IllegalArgumentException("Gemm needs 2-D A and B, got " + Arrays.toString(a.shape())
                    + " and " + Arrays.toString(b.shape()));
        }
        int m = transA ? a.dim(1) : a.dim(0);
        int k = transA ? a.dim(0) : a.dim(1);
        int kb = transB ? b.dim(1) : b.dim(0);
        int n = transB ? b.dim(0) : b.dim(1);
        if (k != kb) {
            throw new IllegalArgumentException("Gemm shapes " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(b.shape()) + " do not match with transA=" + (transA ? 1 : 0)
                    + " transB=" + (transB ? 1 : 0));
        }
        float[] ad = transA ? transposed(a.floats(), a.dim(0), a.dim(1)) : a.floats();
        float[] bd = transB ? transposed(b.floats(), b.dim(0), b.dim(1)) : b.floats();
        float[] y = MatMulKernel.multiply(ad, bd, m, k, n);
        if (alpha != 1f) {
            for (int i = 0; i < y.length; i++) {
                y[i] *= alpha;
            }
        }
        if (c != null && beta != 0f) {
            int[] shape = {m, n};
            int[] idx = IndexMaps.broadcast(c.shape(), shape);
            Tensor cf = c.toFloat();
            float[] cd = cf.floats();
            for (int i = 0; i < y.length; i++) {
                y[i] += beta * cd[idx[i]];
            }
        }
        return new Tensor[] {Outputs.floats(a.dtype(), new int[] {m, n}, y)};
    }

    private static float[] transposed(float[] src, int rows, int cols) {
        float[] t = new float[src.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[j * rows + i] = src[i * cols + j];
            }
        }
        return t;
    }
}
