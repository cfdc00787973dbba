package dev.layerprobe.simulator.kernels;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * One {@link Sgemm} product: its operands, how it is cut into tasks that each own a tile of C, and
 * the work of a task (packing its panel of the wide operand, starting each C row from its initial
 * value, accumulating k in ascending order through {@link SgemmLoops}, clamping and storing). The
 * numerics and the reasons for the tiling are stated once, in {@link Sgemm}'s class comment. A job is
 * filled in by the thread that creates it and then only read by its tasks, which write disjoint
 * tiles of C.
 */
final class SgemmJob {
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
    static final int DOT_ROWS = 4;
    /** ...in tasks of this many columns. */
    private static final int DOT_COLS = 128;

    /** Floats of a task's slice of whole rows that its blocks of rows reuse from L2 (512 KiB). */
    private static final int L2_FLOATS = 1 << 17;
    /** Rows of the widest register-blocked tile. */
    private static final int EIGHT = 8;

    /** Rows a register-blocked task starts, accumulates and stores together (their sums fit L2). */
    private static final int ROW_BLOCK = 32;

    private static final FloatTiles TILES = FloatTiles.best();

    /** Where C rows start: C's own values, the bias of the row, the bias of the column. */
    static final int INIT_C = 0;

    static final int INIT_ROW_BIAS = 1;
    static final int INIT_COL_BIAS = 2;

    /** Per-thread scratch rows, grown on demand; a task uses them only while it runs. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    /**
     * Per-thread rows for a Y packed once for all tasks of a product; taken out while its tasks run
     * (the thread may run another product's tasks while it waits, never this product's panel).
     */
    private static final ThreadLocal<float[][]> SHARED_PANEL = new ThreadLocal<>();

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

    SgemmJob(float[] x, int xOff, int xr, int xk, float[] c, int cOff, int cr, int ct, int rows, int k, int cols) {
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
        boolean par = parallel && (long) rows * k * cols >= Sgemm.PARALLEL_MACS;
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
        if (yRows != null && TILES.blocked()) {
            // The register-blocked tiles read whole rows in place, a strip of two vectors of
            // columns for every block of rows in turn: a task's slice of the rows (k x tw) should
            // stay in L2 so that its blocks of rows reuse it (the transposed 1x1 convs of small
            // planes: a few dozen rows, a deep and wide operand read once from memory).
            int strip = 32;
            int widest = Math.max(strip, L2_FLOATS / k / strip * strip);
            nt = (cols + widest - 1) / widest;
            tw = Math.min(cols, roundUp((cols + nt - 1) / nt, 16));
        }
        colTiles = (cols + tw - 1) / tw;
        kc = (long) k * tw <= cap ? k : Math.max(6, cap / tw / 6 * 6);
        int rowBlocks = par ? Math.min(rows, Math.max(1, (TASKS + colTiles - 1) / colTiles)) : 1;
        mb = (rows + rowBlocks - 1) / rowBlocks;
        if (TILES.blocked()) {
            // Whole tiles of eight rows: seven rows would run as a tile of four and three of one,
            // each reading the panel again.
            mb = Math.min(rows, roundUp(mb, EIGHT));
        }
        if (kc < k) {
            mb = Math.min(mb, MB_SPLIT);
        }
        rowBlocks = (rows + mb - 1) / mb;
        int tasks = rowBlocks * colTiles;
        float[][] shared = null;
        if (yRows == null && rowBlocks > 1 && kc >= k && (long) k * cols <= WHOLE_PANEL_FLOATS) {
            // Every row block would pack the same panels (a task per row block, as attention's and
            // a transformer's products have): pack all of Y once, as whole rows the tasks read.
            shared = SHARED_PANEL.get();
            SHARED_PANEL.set(null); // taken while the tasks run: a nested product makes its own
            shared = Scratch.ensure(shared == null ? new float[0][] : shared, k, cols);
            pack(shared, 0, k, 0, cols);
            yRows = shared;
        }
        if (par && tasks > 1) {
            IntStream.range(0, tasks).parallel().forEach(this::task);
        } else {
            for (int t = 0; t < tasks; t++) {
                task(t);
            }
        }
        if (shared != null) {
            yRows = null;
            SHARED_PANEL.set(shared);
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
            if (TILES.blocked() && init == INIT_ROW_BIAS && ct == 1) {
                // The Conv form: sums start from the bias in registers and go to C clamped.
                TILES.biasProduct(
                        x,
                        xOff + r0 * xr,
                        xr,
                        xk,
                        r1 - r0,
                        panel,
                        0,
                        k,
                        bias,
                        biasOff + r0,
                        clamp,
                        this.lo,
                        this.hi,
                        c,
                        cOff + r0 * cr + t0 - lo,
                        cr,
                        lo,
                        hi);
                return;
            }
            if (TILES.blocked()) {
                // Register-blocked tiles: blocks of rows, each started, accumulated and stored.
                float[][] acc = s.acc(Math.min(r1 - r0, ROW_BLOCK), hi);
                for (int rb = r0; rb < r1; rb += ROW_BLOCK) {
                    int n = Math.min(ROW_BLOCK, r1 - rb);
                    for (int i = 0; i < n; i++) {
                        initRow(acc[i], rb + i, t0, lo, hi);
                    }
                    TILES.accumulate(x, xOff + rb * xr, xr, xk, n, panel, 0, k, acc, 0, lo, hi);
                    for (int i = 0; i < n; i++) {
                        finishRow(acc[i], rb + i, t0, lo, hi);
                    }
                }
                return;
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
                SgemmLoops.accumulate2(
                        acc0, acc1, panel, first, k - first, x, xo0 + first * xk, xo1 + first * xk, xk, lo, hi);
                finishRow(acc0, r, t0, lo, hi);
                finishRow(acc1, r + 1, t0, lo, hi);
            }
            if (r < r1) {
                initRow(acc0, r, t0, lo, hi);
                SgemmLoops.accumulate(acc0, panel, 0, k, x, xOff + r * xr, xk, lo, hi);
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
            TILES.accumulate(x, xOff + r0 * xr + k0 * xk, xr, xk, r1 - r0, panel, p0, kn, acc, 0, lo, hi);
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
    private int initPairWithProducts(
            float[] acc0, float[] acc1, int r, int t0, float[][] panel, int xo0, int xo1, int lo, int hi) {
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

        static float[][] ensure(float[][] rows, int count, int len) {
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
