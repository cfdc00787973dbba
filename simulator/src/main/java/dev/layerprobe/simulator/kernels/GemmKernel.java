package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX Gemm in float32: Y = alpha * A' B' + beta * C, where A' and B' are A and B optionally
 * transposed and C (optional since opset 11) broadcasts to [M, N]. The product accumulates in
 * float32 with k ascending ({@link Sgemm}); alpha and beta are applied after. Thread-safe; the only
 * state is B transposed, for products of a few rows with transB, kept while B is the same array.
 */
public final class GemmKernel implements FloatKernel {
    private final float alpha;
    private final float beta;
    private final boolean transA;
    private final boolean transB;
    /** See {@link #transposedB}. */
    private volatile TransposedB transposed;

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
            throw new IllegalArgumentException(
                    "Gemm needs 2-D A and B, got " + Arrays.toString(a.shape()) + " and " + Arrays.toString(b.shape()));
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
        // Transposes are folded into the operand strides; the product runs over the n columns.
        float[] y = new float[m * n];
        float[][] bt = transB && Sgemm.dotProducts(m) ? transposedB(b.floats(), n, k) : null;
        if (bt != null) {
            Sgemm.runRows(a.floats(), 0, transA ? 1 : k, transA ? m : 1, bt, y, 0, n, m, k, n, true);
        } else {
            Sgemm.run(
                    a.floats(),
                    0,
                    transA ? 1 : k,
                    transA ? m : 1,
                    b.floats(),
                    0,
                    transB ? 1 : n,
                    transB ? k : 1,
                    y,
                    0,
                    n,
                    1,
                    m,
                    k,
                    n,
                    true);
        }
        if (alpha != 1f) {
            for (int i = 0; i < y.length; i++) {
                y[i] *= alpha;
            }
        }
        if (c != null && beta != 0f) {
            float[] cd = c.toFloat().floats();
            boolean row = (c.rank() == 1 && c.dim(0) == n) || (c.rank() == 2 && c.dim(0) == 1 && c.dim(1) == n);
            if (row) {
                addRows(y, cd, beta, n);
            } else {
                int[] idx = IndexMaps.broadcast(c.shape(), new int[] {m, n});
                for (int i = 0; i < y.length; i++) {
                    y[i] += beta * cd[idx[i]];
                }
            }
        }
        return new Tensor[] {Outputs.floats(a.dtype(), new int[] {m, n}, y)};
    }

    /**
     * B [n x k] transposed into k rows of n, when B is the array seen in the previous run too (a
     * weight: tensors are immutable once handed to a kernel); null the first time an array is
     * seen, so a B that changes every run is never transposed. A product of a few rows with B
     * stored transposed would otherwise be dot products, each one chain of k dependent adds.
     */
    private float[][] transposedB(float[] bs, int n, int k) {
        TransposedB t = transposed;
        if (t != null && t.source == bs && t.n == n && t.k == k) {
            if (t.rows == null) {
                t = new TransposedB(bs, n, k, Sgemm.transpose(bs, 0, k, n, k, true));
                transposed = t;
            }
            return t.rows;
        }
        transposed = new TransposedB(bs, n, k, null);
        return null;
    }

    /** B of a run, and its transpose once B has been seen twice. */
    private record TransposedB(float[] source, int n, int k, float[][] rows) {}

    /**
     * y[i][j] += beta * c[j] for every row of n, through a scratch row: C2 vectorises the loop only
     * when all its arrays share one index (see BinaryKernels).
     */
    private static void addRows(float[] y, float[] c, float beta, int n) {
        float[] row = new float[n];
        for (int base = 0; base < y.length; base += n) {
            System.arraycopy(y, base, row, 0, n);
            for (int j = 0; j < n; j++) {
                row[j] += beta * c[j];
            }
            System.arraycopy(row, 0, y, base, n);
        }
    }
}
