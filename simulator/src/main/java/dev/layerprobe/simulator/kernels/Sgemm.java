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
 * per thread) and accumulates two C rows at a time in row arrays, three k per pass (three panel
 * rows and two accumulators: each loaded panel value feeds two rows), then writes them back,
 * clamped. When C is short and wide the other way round (1x1 convs on 7x7 and 14x14 planes: C is
 * 1280 x 49), the product is computed transposed, C' = B' A', so the vector loop runs over the long
 * dimension; for the Conv form the transposed weights come as whole rows (made once and kept by
 * the caller), which every task indexes directly, without copying. A product with very few rows
 * whose other operand is stored transposed (Gemm with transB on one sample) runs as plain dot
 * products instead of transposing that whole operand.
 */
final class Sgemm {
    /** Below this many multiply-adds the fork/join overhead outweighs the parallel speed-up. */
    static final long PARALLEL_MACS = 1L << 18;
    /** Floats of a packed panel (512 KiB): a task's slice of the wide operand stays in L2. */
    private static final int PANEL_FLOATS = 1 << 17;
    /**
     * The same for a product that reads whole rows of a pre-packed operand (nothing is copied per
     * task): narrower tiles cost more in the vector loop than the larger slice costs in cache.
     */
    private static final int WHOLE_PANEL_FLOATS = 1 << 19;
    /** Target width of a tile, the vector loop's trip count. */
    private static final int NC = 512;
    /** Narrowest tile when a deep product narrows the tiles to keep the whole depth in one panel. */
    private static final int MIN_NC = 128;
    /** Tasks to aim for in a parallel product: enough to balance two to four workers. */
    private static final int TASKS = 8;
    /** Accumulator rows per task when the depth is split over several panels. */
    private static final int MB_SPLIT = 32;
    /** Up to this many rows, a product with Y's columns contiguous runs as dot products... */
    private static final int DOT_ROWS = 4;
    /** ...in tasks of this many columns. */
    private static final int DOT_COLS = 128;
    /**
     * Below this many columns of C and above as many rows, the Conv form runs transposed (with the
     * transposed weights made once and kept by the caller, a longer vector loop pays off even for
     * 1x1 convs on 14x14 planes).
     */
    private static final int TRANSPOSE_BELOW = 256;

    private static final int INIT_C = 0;
    private static final int INIT_ROW_BIAS = 1;
    private static final int INIT_COL_BIAS = 2;

    /** Per-thread scratch rows, grown on demand; a task uses them only while it runs. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

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
     * operand addressed by an offset and a stride per index (so transposed operands need no copy):
     * X[r][kk] = x[xOff + r*xr + kk*xk], Y[kk][t] = y[yOff + kk*yk + t*yt], C[r][t] = c[cOff + r*cr +
     * t*ct].
     */
    static void run(float[] x, int xOff, int xr, int xk, float[] y, int yOff, int yk, int yt,
            float[] c, int cOff, int cr, int ct, int rows, int k, int cols, boolean parallel) {
        if (rows == 0 || cols == 0 || k == 0) {
            return;
        }
        Job job = new Job(x, xOff, xr, xk, c, cOff, cr, ct, rows, k, cols);
        job.y = y;
        job.yOff = yOff;
        job.yk = yk;
        job.yt = yt;
        job.init = INIT_C;
        job.execute(parallel);
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
    static void biasProduct(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff,
            int ldc, int m, int k, int n, float[] bias, int biasOff, boolean clamp, float lo, float hi,
            float[][] at, boolean parallel) {
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
        Job job;
        if (transposed(m, n)) {
            // C'[j][i] = bias[i] + sum_kk B[kk][j] A'[kk][i]: the vector loop runs over the m outputs.
            job = new Job(b, bOff, 1, ldb, c, cOff, 1, ldc, n, k, m);
            job.yRows = at != null ? at : transpose(a, aOff, lda, m, k, par);
            job.init = INIT_COL_BIAS;
        } else {
            job = new Job(a, aOff, lda, 1, c, cOff, ldc, 1, m, k, n);
            job.y = b;
            job.yOff = bOff;
            job.yk = ldb;
            job.yt = 1;
            job.init = INIT_ROW_BIAS;
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

    /** One product's operands, tiling and per-task work. */
    private static final class Job {
        final float[] x;
        final int xOff;
        final int xr;
        final int xk;
        final float[] c;
        final int cOff;
        final int cr;
        final int ct;
        final int rows;
        final int k;
        final int cols;
        /** Y gathered per tile: Y[kk][t] = y[yOff + kk*yk + t*yt]; or whole rows in yRows. */
        float[] y;
        int yOff;
        int yk;
        int yt;
        float[][] yRows;
        int init;
        float[] bias;
        int biasOff;
        boolean clamp;
        float lo;
        float hi;
        int tw;
        int colTiles;
        int mb;
        int kc;

        Job(float[] x, int xOff, int xr, int xk, float[] c, int cOff, int cr, int ct, int rows, int k, int cols) {
            this.x = x;
            this.xOff = xOff;
            this.xr = xr;
            this.xk = xk;
            this.c = c;
            this.cOff = cOff;
            this.cr = cr;
            this.ct = ct;
            this.rows = rows;
            this.k = k;
            this.cols = cols;
        }

        void execute(boolean parallel) {
            boolean par = parallel && (long) rows * k * cols >= PARALLEL_MACS;
            if (yRows == null && yk == 1 && yt != 1 && rows <= DOT_ROWS) {
                // Few rows and Y's columns contiguous (Gemm with transB, a matrix-vector product):
                // packing would transpose all of Y for a handful of rows; dot products read it as is.
                int blocks = (cols + DOT_COLS - 1) / DOT_COLS;
                IntStream tasks = IntStream.range(0, blocks);
                if (par && blocks > 1) {
                    tasks = tasks.parallel();
                }
                tasks.forEach(bi -> dots(bi * DOT_COLS, Math.min(cols, (bi + 1) * DOT_COLS)));
                return;
            }
            // Tiles of near-equal width, a multiple of 16 floats, at most NC wide...
            int nt = (cols + NC - 1) / NC;
            tw = Math.min(cols, roundUp((cols + nt - 1) / nt, 16));
            // ...narrower for deep products, so that the whole depth fits one panel, as long as
            // they stay at least MIN_NC wide; beyond that the depth is split over several panels.
            int cap = yRows != null ? WHOLE_PANEL_FLOATS : PANEL_FLOATS;
            int fit = cap / k / 16 * 16;
            if (tw > fit && cols >= 2 * MIN_NC) {
                nt = (cols + Math.max(fit, MIN_NC) - 1) / Math.max(fit, MIN_NC);
                tw = Math.min(cols, Math.max(MIN_NC, roundUp((cols + nt - 1) / nt, 16)));
            }
            colTiles = (cols + tw - 1) / tw;
            kc = (long) k * tw <= cap ? k : Math.max(6, cap / tw / 6 * 6);
            int rowBlocks = par ? Math.min(rows, Math.max(1, (TASKS + colTiles - 1) / colTiles)) : 1;
            mb = (rows + rowBlocks - 1) / rowBlocks;
            if (kc < k) {
                mb = Math.min(mb, MB_SPLIT);
            }
            rowBlocks = (rows + mb - 1) / mb;
            int tasks = rowBlocks * colTiles;
            if (par && tasks > 1) {
                IntStream.range(0, tasks).parallel().forEach(this::task);
            } else {
                for (int t = 0; t < tasks; t++) {
                    task(t);
                }
            }
        }

        void task(int id) {
            int r0 = (id / colTiles) * mb;
            int r1 = Math.min(rows, r0 + mb);
            int t0 = (id % colTiles) * tw;
            int t1 = Math.min(cols, t0 + tw);
            // Every array of the vector loops is indexed by t in [lo, hi): from 0 in the packed
            // tile, or by the column itself in whole rows.
            boolean whole = yRows != null;
            int lo = whole ? t0 : 0;
            int hi = whole ? t1 : t1 - t0;
            Scratch s = SCRATCH.get();
            float[][] panel = whole ? yRows : s.panel(Math.min(kc, k), hi);
            if (kc >= k) {
                if (!whole) {
                    pack(panel, 0, k, t0, hi);
                }
                float[][] acc = s.acc(2, hi);
                float[] acc0 = acc[0];
                float[] acc1 = acc[1];
                int r = r0;
                for (; r + 2 <= r1; r += 2) {
                    int xo0 = xOff + r * xr;
                    int xo1 = xOff + (r + 1) * xr;
                    // The first products go with the start value, saving a pass over the rows.
                    int first = initPairWithProducts(acc0, acc1, r, t0, panel, xo0, xo1, lo, hi);
                    accumulate2(acc0, acc1, panel, first, k - first, x, xo0 + first * xk, xo1 + first * xk, xk, lo,
                            hi);
                    finishRow(acc0, r, t0, lo, hi);
                    finishRow(acc1, r + 1, t0, lo, hi);
                }
                if (r < r1) {
                    initRow(acc0, r, t0, lo, hi);
                    accumulate(acc0, panel, 0, k, x, xOff + r * xr, xk, lo, hi);
                    finishRow(acc0, r, t0, lo, hi);
                }
                return;
            }
            float[][] acc = s.acc(r1 - r0, hi);
            for (int r = r0; r < r1; r++) {
                initRow(acc[r - r0], r, t0, lo, hi);
            }
            for (int k0 = 0; k0 < k; k0 += kc) {
                int kn = Math.min(k, k0 + kc) - k0;
                int p0 = whole ? k0 : 0;
                if (!whole) {
                    pack(panel, k0, kn, t0, hi);
                }
                int r = r0;
                for (; r + 2 <= r1; r += 2) {
                    accumulate2(acc[r - r0], acc[r + 1 - r0], panel, p0, kn, x, xOff + r * xr + k0 * xk,
                            xOff + (r + 1) * xr + k0 * xk, xk, lo, hi);
                }
                if (r < r1) {
                    accumulate(acc[r - r0], panel, p0, kn, x, xOff + r * xr + k0 * xk, xk, lo, hi);
                }
            }
            for (int r = r0; r < r1; r++) {
                finishRow(acc[r - r0], r, t0, lo, hi);
            }
        }

        /** C[r][t] for all rows and t in [t0, t1) by dot products, four columns at a time. */
        private void dots(int t0, int t1) {
            for (int r = 0; r < rows; r++) {
                int xb = xOff + r * xr;
                int t = t0;
                for (; t + 4 <= t1; t += 4) {
                    int c0 = cOff + r * cr + t * ct;
                    float s0 = initValue(r, t, c0);
                    float s1 = initValue(r, t + 1, c0 + ct);
                    float s2 = initValue(r, t + 2, c0 + 2 * ct);
                    float s3 = initValue(r, t + 3, c0 + 3 * ct);
                    int y0 = yOff + t * yt;
                    int y1 = y0 + yt;
                    int y2 = y1 + yt;
                    int y3 = y2 + yt;
                    for (int kk = 0; kk < k; kk++) {
                        float a = x[xb + kk * xk];
                        s0 = s0 + a * y[y0 + kk];
                        s1 = s1 + a * y[y1 + kk];
                        s2 = s2 + a * y[y2 + kk];
                        s3 = s3 + a * y[y3 + kk];
                    }
                    finishValue(s0, c0);
                    finishValue(s1, c0 + ct);
                    finishValue(s2, c0 + 2 * ct);
                    finishValue(s3, c0 + 3 * ct);
                }
                for (; t < t1; t++) {
                    int ci = cOff + r * cr + t * ct;
                    float acc = initValue(r, t, ci);
                    int yb = yOff + t * yt;
                    for (int kk = 0; kk < k; kk++) {
                        acc = acc + x[xb + kk * xk] * y[yb + kk];
                    }
                    finishValue(acc, ci);
                }
            }
        }

        private float initValue(int r, int t, int ci) {
            return switch (init) {
                case INIT_ROW_BIAS -> bias == null ? 0f : bias[biasOff + r];
                case INIT_COL_BIAS -> bias == null ? 0f : bias[biasOff + t];
                default -> c[ci];
            };
        }

        private void finishValue(float v, int ci) {
            c[ci] = clamp ? Math.min(Math.max(v, lo), hi) : v;
        }

        /**
         * Starts rows r and r + 1 at their initial values plus their first products (four with a
         * row bias, three with a column bias, none otherwise, or when k is too small); returns how
         * many k it took. Same order as initialising and then accumulating.
         */
        private int initPairWithProducts(float[] acc0, float[] acc1, int r, int t0, float[][] panel, int xo0, int xo1,
                int lo, int hi) {
            if (init == INIT_ROW_BIAS && k >= 4) {
                float b0 = bias == null ? 0f : bias[biasOff + r];
                float b1 = bias == null ? 0f : bias[biasOff + r + 1];
                float a00 = x[xo0];
                float a01 = x[xo0 + xk];
                float a02 = x[xo0 + 2 * xk];
                float a03 = x[xo0 + 3 * xk];
                float a10 = x[xo1];
                float a11 = x[xo1 + xk];
                float a12 = x[xo1 + 2 * xk];
                float a13 = x[xo1 + 3 * xk];
                float[] q0 = panel[0];
                float[] q1 = panel[1];
                float[] q2 = panel[2];
                float[] q3 = panel[3];
                for (int t = lo; t < hi; t++) {
                    float v0 = q0[t];
                    float v1 = q1[t];
                    float v2 = q2[t];
                    float v3 = q3[t];
                    acc0[t] = b0 + a00 * v0 + a01 * v1 + a02 * v2 + a03 * v3;
                    acc1[t] = b1 + a10 * v0 + a11 * v1 + a12 * v2 + a13 * v3;
                }
                return 4;
            }
            if (init == INIT_COL_BIAS && bias != null && k >= 3) {
                // acc[t] for t in [lo, hi) is column t0 + (t - lo) of C; whole rows have lo == t0.
                float[] bv = bias;
                int shift = biasOff + t0 - lo;
                if (shift == 0) {
                    float a00 = x[xo0];
                    float a01 = x[xo0 + xk];
                    float a02 = x[xo0 + 2 * xk];
                    float a10 = x[xo1];
                    float a11 = x[xo1 + xk];
                    float a12 = x[xo1 + 2 * xk];
                    float[] q0 = panel[0];
                    float[] q1 = panel[1];
                    float[] q2 = panel[2];
                    for (int t = lo; t < hi; t++) {
                        float b = bv[t];
                        float v0 = q0[t];
                        float v1 = q1[t];
                        float v2 = q2[t];
                        acc0[t] = b + a00 * v0 + a01 * v1 + a02 * v2;
                        acc1[t] = b + a10 * v0 + a11 * v1 + a12 * v2;
                    }
                    return 3;
                }
            }
            initRow(acc0, r, t0, lo, hi);
            initRow(acc1, r + 1, t0, lo, hi);
            return 0;
        }

        /** panel[kk][0, tw) = Y[k0 + kk][t0, t0 + tw) for kk < kn. */
        private void pack(float[][] panel, int k0, int kn, int t0, int width) {
            for (int kk = 0; kk < kn; kk++) {
                int src = yOff + (k0 + kk) * yk + t0 * yt;
                float[] dst = panel[kk];
                if (yt == 1) {
                    System.arraycopy(y, src, dst, 0, width);
                } else {
                    for (int t = 0; t < width; t++) {
                        dst[t] = y[src + t * yt];
                    }
                }
            }
        }

        private void initRow(float[] acc, int r, int t0, int lo, int hi) {
            int width = hi - lo;
            switch (init) {
                case INIT_ROW_BIAS -> Arrays.fill(acc, lo, hi, bias == null ? 0f : bias[biasOff + r]);
                case INIT_COL_BIAS -> {
                    if (bias == null) {
                        Arrays.fill(acc, lo, hi, 0f);
                    } else {
                        System.arraycopy(bias, biasOff + t0, acc, lo, width);
                    }
                }
                default -> {
                    int src = cOff + r * cr + t0 * ct;
                    if (ct == 1) {
                        System.arraycopy(c, src, acc, lo, width);
                    } else {
                        for (int t = 0; t < width; t++) {
                            acc[lo + t] = c[src + t * ct];
                        }
                    }
                }
            }
        }

        private void finishRow(float[] acc, int r, int t0, int lo, int hi) {
            if (clamp) {
                float l = this.lo;
                float h = this.hi;
                for (int t = lo; t < hi; t++) {
                    acc[t] = Math.min(Math.max(acc[t], l), h);
                }
            }
            int dst = cOff + r * cr + t0 * ct;
            int width = hi - lo;
            if (ct == 1) {
                System.arraycopy(acc, lo, c, dst, width);
            } else {
                for (int t = 0; t < width; t++) {
                    c[dst + t * ct] = acc[lo + t];
                }
            }
        }
    }

    /**
     * acc[t] += sum_kk x[xo + kk*xk] * panel[p0 + kk][t] for t in [lo, hi), kk ascending; four k
     * per pass over acc.
     */
    private static void accumulate(float[] acc, float[][] panel, int p0, int kn, float[] x, int xo, int xk, int lo,
            int hi) {
        int kk = 0;
        for (; kk + 4 <= kn; kk += 4) {
            int xi = xo + kk * xk;
            float a0 = x[xi];
            float a1 = x[xi + xk];
            float a2 = x[xi + 2 * xk];
            float a3 = x[xi + 3 * xk];
            float[] q0 = panel[p0 + kk];
            float[] q1 = panel[p0 + kk + 1];
            float[] q2 = panel[p0 + kk + 2];
            float[] q3 = panel[p0 + kk + 3];
            // Left to right: ((((acc + a0 q0) + a1 q1) + a2 q2) + a3 q3), the sequential order.
            for (int t = lo; t < hi; t++) {
                acc[t] = acc[t] + a0 * q0[t] + a1 * q1[t] + a2 * q2[t] + a3 * q3[t];
            }
        }
        for (; kk < kn; kk++) {
            float a0 = x[xo + kk * xk];
            float[] q0 = panel[p0 + kk];
            for (int t = lo; t < hi; t++) {
                acc[t] = acc[t] + a0 * q0[t];
            }
        }
    }

    /**
     * Two rows at once: accN[t] += sum_kk x[xoN + kk*xk] * panel[p0 + kk][t] for t in [lo, hi), kk
     * ascending; three k per pass, so each loaded panel value feeds two rows (C2 still vectorises
     * a loop of five arrays; with six it falls back to scalar code).
     */
    private static void accumulate2(float[] acc0, float[] acc1, float[][] panel, int p0, int kn, float[] x, int xo0,
            int xo1, int xk, int lo, int hi) {
        int kk = 0;
        for (; kk + 3 <= kn; kk += 3) {
            int i0 = xo0 + kk * xk;
            int i1 = xo1 + kk * xk;
            float a00 = x[i0];
            float a01 = x[i0 + xk];
            float a02 = x[i0 + 2 * xk];
            float a10 = x[i1];
            float a11 = x[i1 + xk];
            float a12 = x[i1 + 2 * xk];
            float[] q0 = panel[p0 + kk];
            float[] q1 = panel[p0 + kk + 1];
            float[] q2 = panel[p0 + kk + 2];
            for (int t = lo; t < hi; t++) {
                float b0 = q0[t];
                float b1 = q1[t];
                float b2 = q2[t];
                float c0 = acc0[t];
                float c1 = acc1[t];
                acc0[t] = c0 + a00 * b0 + a01 * b1 + a02 * b2;
                acc1[t] = c1 + a10 * b0 + a11 * b1 + a12 * b2;
            }
        }
        if (kk + 2 == kn) {
            float a00 = x[xo0 + kk * xk];
            float a01 = x[xo0 + (kk + 1) * xk];
            float a10 = x[xo1 + kk * xk];
            float a11 = x[xo1 + (kk + 1) * xk];
            float[] q0 = panel[p0 + kk];
            float[] q1 = panel[p0 + kk + 1];
            for (int t = lo; t < hi; t++) {
                float b0 = q0[t];
                float b1 = q1[t];
                float c0 = acc0[t];
                float c1 = acc1[t];
                acc0[t] = c0 + a00 * b0 + a01 * b1;
                acc1[t] = c1 + a10 * b0 + a11 * b1;
            }
        } else if (kk + 1 == kn) {
            float a00 = x[xo0 + kk * xk];
            float a10 = x[xo1 + kk * xk];
            float[] q0 = panel[p0 + kk];
            for (int t = lo; t < hi; t++) {
                float b0 = q0[t];
                float c0 = acc0[t];
                float c1 = acc1[t];
                acc0[t] = c0 + a00 * b0;
                acc1[t] = c1 + a10 * b0;
            }
        }
    }

    private static int roundUp(int v, int m) {
        return (v + m - 1) / m * m;
    }

    /** Scratch rows of one thread. */
    private static final class Scratch {
        private float[][] panel = new float[0][];
        private float[][] acc = new float[0][];

        float[][] panel(int count, int len) {
            panel = ensure(panel, count, len);
            return panel;
        }

        float[][] acc(int count, int len) {
            acc = ensure(acc, count, len);
            return acc;
        }

        private static float[][] ensure(float[][] rows, int count, int len) {
            if (rows.length < count) {
                rows = Arrays.copyOf(rows, count);
            }
            for (int i = 0; i < count; i++) {
                if (rows[i] == null || rows[i].length < len) {
                    rows[i] = new float[Math.max(len, 16)];
                }
            }
            return rows;
        }
    }
}
