package dev.layerprobe.simulator.kernels;

import java.util.stream.IntStream;

/**
 * Blocked float32 matrix product C += A B for the float kernels (Conv, MatMul, Gemm), on row-major
 * arrays with explicit offsets and row strides. C must hold its initial value (zero or the bias).
 *
 * <p>Numerics: every C element is updated as {@code c = c + a[k]*b[k]} with k ascending and one
 * rounding per multiply and per add (Java forbids fusing or reassociating them), exactly the order
 * of the naive i-k-j loop. Blocking only changes when the partial sums are stored, never their
 * order, and each C element is owned by one task, so results are bit-identical whatever the
 * thread count or scheduling.
 *
 * <p>Why the packing: HotSpot C2 (JDK 17) vectorises {@code acc[j] = acc[j] + a * b[j]} only when
 * every array is indexed by the loop variable alone; with a loop-invariant offset it cannot rule out
 * overlap and falls back to scalar code (about 5x slower). So each task copies its tile of the
 * "wide" operand into per-k row arrays and accumulates its C tile in per-row arrays, then writes it
 * back. When C is short and wide the other way round (1x1 convs on 7x7 planes: C is 1280 x 49), the
 * product is computed transposed, C' = B' A', so the vector loop runs over the long dimension.
 */
final class Sgemm {
    /** Below this many multiply-adds the fork/join overhead outweighs the parallel speed-up. */
    static final long PARALLEL_MACS = 1L << 18;
    /** Depth of a packed panel: KC x NC floats (128 KiB) stay in L2 while a row block reuses them. */
    private static final int KC = 128;
    /** Width of a tile, the vector loop's trip count. */
    private static final int NC = 256;
    /** Rows of C per task that share one packed panel. */
    private static final int MB = 16;

    private Sgemm() {
    }

    /**
     * C[m x n] += A[m x k] B[k x n], with A at {@code a[aOff + i*lda + kk]}, B at
     * {@code b[bOff + kk*ldb + j]} and C at {@code c[cOff + i*ldc + j]}.
     *
     * @param parallel whether tasks may run on the common pool (they still own disjoint C tiles)
     */
    static void multiplyAdd(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
            int m, int k, int n, boolean parallel) {
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
     * operand addressed by
     * an offset and a stride per index (so transposed operands need no copy): X[r][kk] = x[xOff + r*xr + kk*xk], Y[kk][t] = y[yOff +
     * kk*yk + t*yt], C[r][t] = c[cOff + r*cr + t*ct].
     */
    static void run(float[] x, int xOff, int xr, int xk, float[] y, int yOff, int yk, int yt,
            float[] c, int cOff, int cr, int ct, int rows, int k, int cols, boolean parallel) {
        int rowBlocks = (rows + MB - 1) / MB;
        int colTiles = (cols + NC - 1) / NC;
        IntStream tasks = IntStream.range(0, rowBlocks * colTiles);
        if (parallel && (long) rows * k * cols >= PARALLEL_MACS) {
            tasks = tasks.parallel();
        }
        tasks.forEach(task -> {
            int r0 = (task / colTiles) * MB;
            int r1 = Math.min(rows, r0 + MB);
            int t0 = (task % colTiles) * NC;
            int tw = Math.min(cols, t0 + NC) - t0;
            float[][] acc = new float[r1 - r0][tw];
            float[][] panel = new float[Math.min(KC, k)][tw];
            for (int r = r0; r < r1; r++) {
                gather(c, cOff + r * cr + t0 * ct, ct, acc[r - r0], tw);
            }
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(k, k0 + KC) - k0;
                for (int kk = 0; kk < kc; kk++) {
                    gather(y, yOff + (k0 + kk) * yk + t0 * yt, yt, panel[kk], tw);
                }
                for (int r = r0; r < r1; r++) {
                    accumulate(acc[r - r0], panel, x, xOff + r * xr + k0 * xk, xk, kc, tw);
                }
            }
            for (int r = r0; r < r1; r++) {
                scatter(acc[r - r0], c, cOff + r * cr + t0 * ct, ct, tw);
            }
        });
    }

    /** acc[t] += sum_kk x[xo + kk*xk] * panel[kk][t], kk ascending; four k per pass over acc. */
    private static void accumulate(float[] acc, float[][] panel, float[] x, int xo, int xk, int kc, int tw) {
        int kk = 0;
        for (; kk + 4 <= kc; kk += 4) {
            int xi = xo + kk * xk;
            float a0 = x[xi];
            float a1 = x[xi + xk];
            float a2 = x[xi + 2 * xk];
            float a3 = x[xi + 3 * xk];
            float[] p0 = panel[kk];
            float[] p1 = panel[kk + 1];
            float[] p2 = panel[kk + 2];
            float[] p3 = panel[kk + 3];
            // Left to right: ((((acc + a0 p0) + a1 p1) + a2 p2) + a3 p3), the sequential order.
            for (int t = 0; t < tw; t++) {
                acc[t] = acc[t] + a0 * p0[t] + a1 * p1[t] + a2 * p2[t] + a3 * p3[t];
            }
        }
        for (; kk < kc; kk++) {
            float a0 = x[xo + kk * xk];
            float[] p0 = panel[kk];
            for (int t = 0; t < tw; t++) {
                acc[t] = acc[t] + a0 * p0[t];
            }
        }
    }

    private static void gather(float[] src, int off, int stride, float[] dst, int len) {
        if (stride == 1) {
            System.arraycopy(src, off, dst, 0, len);
        } else {
            for (int t = 0; t < len; t++) {
                dst[t] = src[off + t * stride];
            }
        }
    }

    private static void scatter(float[] src, float[] dst, int off, int stride, int len) {
        if (stride == 1) {
            System.arraycopy(src, 0, dst, off, len);
        } else {
            for (int t = 0; t < len; t++) {
                dst[off + t * stride] = src[t];
            }
        }
    }
}
