package dev.layerprobe.simulator.kernels;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Blocked float32 matrix products for the float kernels (Conv, MatMul, Gemm), on row-major arrays
 * with explicit offsets and row strides: C += A B ({@link #multiplyAdd}, {@link #run}), and the
 * Conv form C = clamp(bias + A B) ({@link #biasProduct}).
 *
 * <p>Numerics: every C element starts from its initial value (C itself, or the bias) and is
 * updated as {@code c = c + a[k]*b[k]} with k ascending and one rounding per multiply and per add
 * (Java forbids fusing or reassociating them), exactly the order of the naive i-k-j loop; a fused
 * clamp is applied once at the end. Blocking only changes when the partial sums are stored, never
 * their order, and each C element is owned by one task, so results are bit-identical whatever the
 * thread count, scheduling or tiling.
 *
 * <p>Why the packing: HotSpot C2 (JDK 17) vectorises {@code acc[j] = acc[j] + a * b[j]} only when
 * every array is indexed by the same expression of the loop variable; with different loop-invariant
 * offsets it cannot rule out overlap and falls back to scalar code (about 5x slower). It also stops
 * vectorising when a loop stores to two arrays (so several C rows cannot share one pass) or reads
 * more than five. So each task copies its tile of the "wide" operand into per-k row arrays (reused
 * per thread; packed once for all tasks when they would all copy the same panel) and accumulates
 * two C rows at a time in row arrays, three k per pass (three panel rows and two accumulators: each
 * loaded panel value feeds two rows), then writes them back, clamped. When C is short and wide the other way round (1x1 convs on 7x7 and 14x14 planes: C is
 * 1280 x 49), the product is computed transposed, C' = B' A', so the vector loop runs over the long
 * dimension; for the Conv form the transposed weights come as whole rows (made once and kept by
 * the caller), which every task indexes directly, without copying. A product with very few rows
 * whose other operand is stored transposed (Gemm with transB on one sample) runs as plain dot
 * products instead of transposing that whole operand.
 *
 * <p>The tiling and the per-task work are {@link SgemmJob}'s; the loops over a block of rows,
 * {@link FloatTiles}': register-blocked Vector API tiles where the JVM has the module (the same
 * order and roundings, so the same bits), else the C2-vectorised row loops of {@link SgemmLoops}.
 * Stateless; every call may run on any thread.
 */
final class Sgemm {
    /** Below this many multiply-adds the fork/join overhead outweighs the parallel speed-up. */
    static final long PARALLEL_MACS = 1L << 18;
    /**
     * Below this many columns of C and above as many rows, the Conv form runs transposed (with the
     * transposed weights made once and kept by the caller, a longer vector loop pays off even for
     * 1x1 convs on 14x14 planes).
     */
    private static final int TRANSPOSE_BELOW = 256;

    private Sgemm() {}

    /**
     * C[m x n] += A[m x k] B[k x n], with A at {@code a[aOff + i*lda + kk]}, B at
     * {@code b[bOff + kk*ldb + j]} and C at {@code c[cOff + i*ldc + j]}.
     *
     * @param parallel whether tasks may run on the common pool (they still own disjoint C tiles)
     */
    static void multiplyAdd(
            float[] a,
            int aOff,
            int lda,
            float[] b,
            int bOff,
            int ldb,
            float[] c,
            int cOff,
            int ldc,
            int m,
            int k,
            int n,
            boolean parallel) {
        if (m == 0 || n == 0 || k == 0) {
            return;
        }
        if (n < 128 && m > n) {
            // C' = B' A': rows of C' are columns j of C, the vector loop runs over i.
            run(b, bOff, 1, ldb, a, aOff, 1, lda, c, cOff, 1, ldc, n, k, m, parallel);
        } else {
            run(a, aOff, lda, 1, b, bOff, ldb, 1, c, cOff, ldc, 1, m, k, n, parallel);
        }
    }

    /**
     * C[r][t] += sum_kk X[r][kk] * Y[kk][t] for r < rows, t < cols (vector loop over t), with every
     * operand addressed by an offset and a stride per index (so transposed operands need no copy):
     * X[r][kk] = x[xOff + r*xr + kk*xk], Y[kk][t] = y[yOff + kk*yk + t*yt], C[r][t] = c[cOff + r*cr +
     * t*ct].
     */
    static void run(
            float[] x,
            int xOff,
            int xr,
            int xk,
            float[] y,
            int yOff,
            int yk,
            int yt,
            float[] c,
            int cOff,
            int cr,
            int ct,
            int rows,
            int k,
            int cols,
            boolean parallel) {
        if (rows == 0 || cols == 0 || k == 0) {
            return;
        }
        SgemmJob job = new SgemmJob(x, xOff, xr, xk, c, cOff, cr, ct, rows, k, cols);
        job.y = y;
        job.yOff = yOff;
        job.yk = yk;
        job.yt = yt;
        job.init = SgemmJob.INIT_C;
        job.execute(parallel);
    }

    /**
     * C[r][t] += sum_kk X[r][kk] * Y[kk][t] as {@link #run}, with Y given as whole rows {@code
     * yRows[kk][t]} (an operand transposed once and kept by the caller).
     */
    static void runRows(
            float[] x,
            int xOff,
            int xr,
            int xk,
            float[][] yRows,
            float[] c,
            int cOff,
            int cr,
            int rows,
            int k,
            int cols,
            boolean parallel) {
        if (rows == 0 || cols == 0 || k == 0) {
            return;
        }
        SgemmJob job = new SgemmJob(x, xOff, xr, xk, c, cOff, cr, 1, rows, k, cols);
        job.yRows = yRows;
        job.init = SgemmJob.INIT_C;
        job.execute(parallel);
    }

    /**
     * Whether {@link #run} of this many rows with Y's columns contiguous (a stored-transposed
     * operand) computes dot products, each a chain of k adds: a caller that keeps the operand
     * transposed ({@link #runRows}) runs the vector loop over the columns instead.
     */
    static boolean dotProducts(int rows) {
        return rows <= SgemmJob.DOT_ROWS;
    }

    /**
     * The Conv form: C[i][j] = clamp(bias[biasOff + i] + sum_kk A[i][kk] B[kk][j]) for i < m,
     * j < n, with A at {@code a[aOff + i*lda + kk]}, B at {@code b[bOff + kk*ldb + j]}, C at
     * {@code c[cOff + i*ldc + j]}; a null bias counts as zeros; the clamp is
     * {@code min(max(v, lo), hi)} when {@code clamp}. C's previous contents are ignored.
     *
     * @param at A transposed as whole rows, {@code at[kk][i] = A[i][kk]}, as made by
     *           {@link #transpose}, or null to make it here when the product runs transposed
     */
    static void biasProduct(
            float[] a,
            int aOff,
            int lda,
            float[] b,
            int bOff,
            int ldb,
            float[] c,
            int cOff,
            int ldc,
            int m,
            int k,
            int n,
            float[] bias,
            int biasOff,
            boolean clamp,
            float lo,
            float hi,
            float[][] at,
            boolean parallel) {
        if (m == 0 || n == 0) {
            return;
        }
        boolean par = parallel && (long) m * k * n >= PARALLEL_MACS;
        if (k == 0) {
            for (int i = 0; i < m; i++) {
                float v = bias == null ? 0f : bias[biasOff + i];
                if (clamp) {
                    v = Math.min(Math.max(v, lo), hi);
                }
                Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, v);
            }
            return;
        }
        SgemmJob job;
        if (transposed(m, n)) {
            // C'[j][i] = bias[i] + sum_kk B[kk][j] A'[kk][i]: the vector loop runs over the m outputs.
            job = new SgemmJob(b, bOff, 1, ldb, c, cOff, 1, ldc, n, k, m);
            job.yRows = at != null ? at : transpose(a, aOff, lda, m, k, par);
            job.init = SgemmJob.INIT_COL_BIAS;
        } else {
            job = new SgemmJob(a, aOff, lda, 1, c, cOff, ldc, 1, m, k, n);
            job.y = b;
            job.yOff = bOff;
            job.yk = ldb;
            job.yt = 1;
            job.init = SgemmJob.INIT_ROW_BIAS;
        }
        job.bias = bias;
        job.biasOff = biasOff;
        job.clamp = clamp;
        job.lo = lo;
        job.hi = hi;
        job.execute(parallel);
    }

    /** Whether {@link #biasProduct} of an m x n result runs transposed (and so uses A transposed). */
    static boolean transposed(int m, int n) {
        return n < TRANSPOSE_BELOW && m > n;
    }

    /** A[m x k] (at {@code a[aOff + i*lda + kk]}) transposed into k rows of m. */
    static float[][] transpose(float[] a, int aOff, int lda, int m, int k, boolean parallel) {
        float[][] at = new float[k][m];
        final int block = 64;
        IntStream blocks = IntStream.range(0, (m + block - 1) / block);
        if (parallel) {
            blocks = blocks.parallel();
        }
        blocks.forEach(bi -> {
            int i0 = bi * block;
            int i1 = Math.min(m, i0 + block);
            for (int kk = 0; kk < k; kk++) {
                float[] row = at[kk];
                for (int i = i0; i < i1; i++) {
                    row[i] = a[aOff + i * lda + kk];
                }
            }
        });
        return at;
    }
}
