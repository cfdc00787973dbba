package dev.layerprobe.simulator.kernels;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * A stride-1 Conv (any kernel size, dilation and padding) of one (image, group) as a blocked matrix
 * product that reads its im2col matrix in place instead of building it.
 *
 * <p>The input planes are copied once into zero-padded planes of ph x pw (ph = oh + dilated kernel
 * height - 1, pw likewise), and the outputs are computed on the grid of width pw: output (r, c) is
 * grid position t = r*pw + c. Then row kk = (ci, kh, kw) of the im2col matrix, at grid position t,
 * is the padded input at {@code koff[kk] + t}, with {@code koff[kk] = ci*ph*pw + kh*dh*pw + kw*dw}:
 * one offset per k, no copy. The grid's pw - ow extra columns per row (and the grid's round-up to
 * whole vectors) are computed and dropped. Numerics are those of the im2col product
 * ({@link Sgemm}): each output is the bias plus the products with k = (ci, kh, kw) ascending, one
 * rounding per multiply and per add, padding read as zeros, clamped once; so the two paths give
 * the same bits.
 *
 * <p>Why: the im2col matrix of a 3x3 conv is nine times the input; on 96x96 planes with 64
 * channels it is 21 MB, written once and read back (packed) from memory, which cost more than the
 * products. The padded planes are about the input's size and each task's window of them stays in
 * L2. Used only with the register-blocked tiles ({@link FloatTiles#blocked}). Stateless.
 */
final class PaddedConv {
    /** Grid positions per task tile: a multiple of every vector length's two-vector step. */
    private static final int TILE = 512;
    /** Grid lengths are rounded up to this, so the tiles' vector loops have no scalar tail. */
    private static final int ROUND = 32;
    /** Largest share of computed grid positions that are dropped (extra columns, round-up). */
    private static final double MAX_WASTE = 0.25;
    /** Tasks to aim for in a parallel product. */
    private static final int TASKS = 8;
    /** Most output channels per task (the task's tile of C stays in L2). */
    private static final int MAX_ROWS = 64;

    private static final FloatTiles TILES = FloatTiles.best();
    /** Per-thread tiles of C, grown on demand; a task uses its thread's only while it runs. */
    private static final ThreadLocal<float[][]> TILE_SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

    private PaddedConv() {}

    /**
     * Whether this geometry runs here: stride 1, the register-blocked tiles present, and at most
     * {@link #MAX_WASTE} of the grid dropped (small planes, where the extra columns would cost more
     * than im2col saves, stay on im2col).
     */
    static boolean supports(ConvKernel.Dim dh, ConvKernel.Dim dw) {
        if (!TILES.blocked() || dh.stride() != 1 || dw.stride() != 1 || dh.out() < 1 || dw.out() < 1) {
            return false;
        }
        if (dh.padBegin() < 0 || dw.padBegin() < 0) {
            return false;
        }
        long grid = roundUp((long) dh.out() * width(dw), ROUND);
        return grid <= (1 + MAX_WASTE) * dh.out() * dw.out();
    }

    /** Floats of the padded planes (and the slack the last offsets read past them) for cg channels. */
    static int paddedFloats(int cg, ConvKernel.Dim dh, ConvKernel.Dim dw) {
        int pw = width(dw);
        int ph = height(dh);
        int grid = roundUp(dh.out() * pw, ROUND);
        return maxOffset(cg, dh, dw, ph, pw) + grid;
    }

    /**
     * out[oBase + i*plane + r*ow + c] = clamp(bias[biasOff + i] + Σ_kk W[i][kk] X'[kk][r, c]) for
     * the mg output channels, W at {@code w[wBase + i*K + kk]} (K = cg*kH*kW), X' the im2col matrix
     * of the cg input planes at {@code x[xBase]}; {@code padded} holds at least
     * {@link #paddedFloats} floats, its contents ignored.
     */
    static void product(
            float[] x,
            int xBase,
            int cg,
            float[] w,
            int wBase,
            int mg,
            float[] out,
            int oBase,
            ConvKernel.Dim dh,
            ConvKernel.Dim dw,
            float[] bias,
            int biasOff,
            boolean clamp,
            float lo,
            float hi,
            boolean parallel,
            float[] padded) {
        int pw = width(dw);
        int ph = height(dh);
        int oh = dh.out();
        int ow = dw.out();
        int grid = roundUp(oh * pw, ROUND);
        int kdim = cg * dh.k() * dw.k();
        int[] koff = new int[kdim];
        for (int ci = 0, kk = 0; ci < cg; ci++) {
            for (int a = 0; a < dh.k(); a++) {
                for (int b = 0; b < dw.k(); b++) {
                    koff[kk++] = ci * ph * pw + a * dh.dilation() * pw + b * dw.dilation();
                }
            }
        }
        IntStream planes = IntStream.range(0, cg);
        if (parallel) {
            planes = planes.parallel();
        }
        planes.forEach(ci -> pad(x, xBase + ci * dh.in() * dw.in(), padded, ci * ph * pw, dh, dw, ph, pw));
        int used = cg * ph * pw;
        int end = maxOffset(cg, dh, dw, ph, pw) + grid;
        Arrays.fill(padded, used, Math.max(used, end), 0f);

        int colTiles = (grid + TILE - 1) / TILE;
        int tw = roundUp((grid + colTiles - 1) / colTiles, ROUND);
        colTiles = (grid + tw - 1) / tw;
        int rowBlocks = parallel ? Math.max(1, Math.min((mg + 3) / 4, (TASKS + colTiles - 1) / colTiles)) : 1;
        int mb = Math.min(MAX_ROWS, roundUp((mg + rowBlocks - 1) / rowBlocks, 4));
        rowBlocks = (mg + mb - 1) / mb;
        int tiles = colTiles;
        int rows = mb;
        int plane = oh * ow;
        IntStream tasks = IntStream.range(0, rowBlocks * colTiles);
        if (parallel && rowBlocks * colTiles > 1) {
            tasks = tasks.parallel();
        }
        tasks.forEach(id -> {
            int r0 = (id / tiles) * rows;
            int r1 = Math.min(mg, r0 + rows);
            int t0 = (id % tiles) * tw;
            int t1 = Math.min(grid, t0 + tw);
            float[][] holder = TILE_SCRATCH.get();
            if (holder[0].length < rows * tw) {
                holder[0] = new float[rows * tw];
            }
            float[] c = holder[0];
            TILES.offsetProduct(
                    w,
                    wBase + r0 * kdim,
                    kdim,
                    r1 - r0,
                    padded,
                    koff,
                    kdim,
                    bias,
                    biasOff + r0,
                    clamp,
                    lo,
                    hi,
                    c,
                    -t0,
                    tw,
                    t0,
                    t1);
            // Keep the grid positions that are outputs: columns below ow of rows below oh.
            for (int r = t0 / pw; r < oh && r * pw < t1; r++) {
                int c0 = Math.max(t0, r * pw);
                int c1 = Math.min(t1, r * pw + ow);
                if (c1 <= c0) {
                    continue;
                }
                for (int i = r0; i < r1; i++) {
                    System.arraycopy(
                            c, (i - r0) * tw + c0 - t0, out, oBase + i * plane + r * ow + c0 - r * pw, c1 - c0);
                }
            }
        });
    }

    /** Input plane at x[xo] into padded plane at padded[po], zeros around it. */
    private static void pad(
            float[] x, int xo, float[] padded, int po, ConvKernel.Dim dh, ConvKernel.Dim dw, int ph, int pw) {
        int top = dh.padBegin();
        int left = dw.padBegin();
        int iw = dw.in();
        // Input rows and columns that land inside the padded plane.
        int rows = Math.max(0, Math.min(dh.in(), ph - top));
        int cols = Math.max(0, Math.min(iw, pw - left));
        Arrays.fill(padded, po, po + top * pw, 0f);
        for (int y = 0; y < rows; y++) {
            int d = po + (top + y) * pw;
            Arrays.fill(padded, d, d + left, 0f);
            System.arraycopy(x, xo + y * iw, padded, d + left, cols);
            Arrays.fill(padded, d + left + cols, d + pw, 0f);
        }
        Arrays.fill(padded, po + (top + rows) * pw, po + ph * pw, 0f);
    }

    private static int width(ConvKernel.Dim dw) {
        return dw.out() + (dw.k() - 1) * dw.dilation();
    }

    private static int height(ConvKernel.Dim dh) {
        return dh.out() + (dh.k() - 1) * dh.dilation();
    }

    private static int maxOffset(int cg, ConvKernel.Dim dh, ConvKernel.Dim dw, int ph, int pw) {
        return (cg - 1) * ph * pw + (dh.k() - 1) * dh.dilation() * pw + (dw.k() - 1) * dw.dilation();
    }

    private static int roundUp(int v, int m) {
        return (v + m - 1) / m * m;
    }

    private static long roundUp(long v, int m) {
        return (v + m - 1) / m * m;
    }
}
