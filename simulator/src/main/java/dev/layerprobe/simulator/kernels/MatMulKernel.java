package dev.layerprobe.simulator.kernels;

import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.tensor.Shapes;
import dev.layerprobe.simulator.tensor.Tensor;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * ONNX MatMul in float32 with numpy semantics: 1-D operands are promoted (and the added dimension
 * removed again), leading batch dimensions broadcast.
 *
 * <p>Products use the i-k-j loop order (a scaled row of B added into a contiguous output row, which
 * the JIT vectorises) and accumulate in float32 with k ascending; rows may be computed in parallel
 * but each row by one thread, so results are deterministic. Stateless and thread-safe.
 */
public final class MatMulKernel implements FloatKernel {
    /** Below this many multiply-adds the fork/join overhead outweighs the parallel speed-up. */
    private static final long PARALLEL_MACS = 1L << 18;

    static FloatKernel create(Node node, int opset) {
        return new MatMulKernel();
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor a = KernelArgs.required(inputs, 0, "A");
        Tensor b = KernelArgs.required(inputs, 1, "B");
        KernelArgs.requireFloating(a, "A");
        KernelArgs.requireFloating(b, "B");
        int[] as = a.shape();
        int[] bs = b.shape();
        if (as.length == 0 || bs.length == 0) {
            throw new IllegalArgumentException("MatMul operands must have rank >= 1, got "
                    + Arrays.toString(as) + " and " + Arrays.toString(bs));
        }
        boolean aVec = as.length == 1;
        boolean bVec = bs.length == 1;
        if (aVec) {
            as = new int[] {1, as[0]};
        }
        if (bVec) {
            bs = new int[] {bs[0], 1};
        }
        int m = as[as.length - 2];
        int k = as[as.length - 1];
        int n = bs[bs.length - 1];
        if (bs[bs.length - 2] != k) {
            throw new IllegalArgumentException("MatMul shapes " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(b.shape()) + " do not match");
        }
        int[] aBatch = Arrays.copyOf(as, as.length - 2);
        int[] bBatch = Arrays.copyOf(bs, bs.length - 2);
        int[] batch = Shapes.broadcast(aBatch, bBatch);
        int[] aIdx = IndexMaps.broadcast(aBatch, batch);
        int[] bIdx = IndexMaps.broadcast(bBatch, batch);
        int nb = aIdx.length;
        float[] out = new float[nb * m * n];
        float[] ad = a.floats();
        float[] bd = b.floats();
        IntStream rows = IntStream.range(0, nb * m);
        if ((long) nb * m * k * n >= PARALLEL_MACS) {
            rows = rows.parallel();
        }
        rows.forEach(r -> {
            int bi = r / m;
            int i = r % m;
            row(ad, aIdx[bi] * m * k + i * k, bd, bIdx[bi] * k * n, out, r * n, k, n);
        });
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        if (aVec || bVec) {
            int[] s = new int[batch.length + (aVec ? 0 : 1) + (bVec ? 0 : 1)];
            System.arraycopy(batch, 0, s, 0, batch.length);
            int p = batch.length;
            if (!aVec) {
                s[p++] = m;
            }
            if (!bVec) {
                s[p] = n;
            }
            outShape = s;
        }
        return new Tensor[] {Outputs.floats(a.dtype(), outShape, out)};
    }

    /** out[oOff..+n) = sum_k a[aOff+k] * b[bOff + k*n ..], k ascending. */
    static void row(float[] a, int aOff, float[] b, int bOff, float[] out, int oOff, int k, int n) {
        for (int kk = 0; kk < k; kk++) {
            float av = a[aOff + kk];
            int bo = bOff + kk * n - oOff;
            for (int j = oOff; j < oOff + n; j++) {
                out[j] += av * b[bo + j];
            }
        }
    }

    /** C[m x n] = A[m x k] B[k x n], rows in parallel when the product is large. */
    static float[] multiply(float[] a, float[] b, int m, int k, int n) {
        float[] out = new float[m * n];
        IntStream rows = IntStream.range(0, m);
        if ((long) m * k * n >= PARALLEL_MACS) {
            rows = rows.parallel();
        }
        rows.forEach(i -> row(a, i * k, b, 0, out, i * n, k, n));
        return out;
    }
}
