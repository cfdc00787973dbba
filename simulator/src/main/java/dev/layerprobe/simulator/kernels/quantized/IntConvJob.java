package dev.layerprobe.simulator.kernels.quantized;

import java.util.stream.IntStream;

/**
 * One call of {@link QConv}'s matrix product: how the output is cut into tasks and the work of a
 * task (gather im2col rows with {@link ConvPanel}, sum products in int32 with {@link IntTiles}, or
 * in 64 bits with {@link IntGemmLoops} when the sums may leave int32, requantize). The numerics are
 * {@link QConv}'s; every output element is computed by one task, from
 * the same exact integer sum whatever the tiling, so results do not depend on threads or
 * scheduling. Filled in by the thread that creates it, then only read by its tasks, which write
 * disjoint elements of the output.
 *
 * <p>Two forms of the product per group, {@code C[o][p] = Σ_k W[o][k] X[k][p]}:
 * <ul>
 *   <li>by rows: a task takes a band of output rows and a block of output channels, and runs the
 *       vector loop over the band's pixels;</li>
 *   <li>transposed, for small planes with more output channels than pixels (1x1 convs on 7x7
 *       planes, where a row of 49 pixels is too short a vector loop): a task takes a block of
 *       output channels and the whole plane, and runs the loop over the block's channels against
 *       the weights stored transposed, one pixel at a time.</li>
 * </ul>
 * Deep products go in chunks of input channels, each gathered once and summed into every output
 * of the task before the next ({@link #PANEL_INTS}): the gathered rows and the weights they meet
 * stay in L2 instead of streaming from memory once per output.
 */
final class IntConvJob {
    /** Ints of a chunk of gathered rows (and of transposed weights): 256 KiB, within L2. */
    private static final int PANEL_INTS = 1 << 16;
    /** Widest and narrowest band of output pixels in the flat layout (the vector loop's trip count). */
    private static final int MAX_TILE = 2048;

    private static final int MIN_TILE = 256;
    /** Ints of the sums a task keeps across chunks. */
    private static final int ACC_INTS = 1 << 16;
    /** Transposed form below this many output pixels per plane (and more output channels than pixels). */
    static final int TRANSPOSE_BELOW = 128;
    /** Output channels per block of the transposed form. */
    private static final int COLUMN_BLOCK = 256;
    /** Multiply-adds (plus gathered values) per task at least, so that fork/join overhead stays small. */
    private static final long TASK_WORK = 1L << 17;
    /** Fewest output channels a task takes when channels are split for parallelism. */
    private static final int MIN_BLOCK = 16;
    /** A parallel stream runs on the common pool's workers and on the calling thread. */
    private static final int THREADS =
            java.util.concurrent.ForkJoinPool.commonPool().getParallelism() + 1;

    /**
     * Output channels summed together before they are requantized, when all input channels fit in
     * one chunk: their sums over a band stay in L2 until they are stored.
     */
    private static final int SUB_BLOCK = 16;

    private static final IntTiles TILES = IntTiles.best();

    /**
     * Lanes of the widest int vector (512 bits): the product by rows runs over whole vectors (the
     * columns past a band are don't-care, like the flat layout's), since a scalar leftover of a few
     * columns costs a pass over the depth for each.
     */
    private static final int LANES = 16;

    private final QConv conv;
    private final boolean wide;
    private final long sumBound;
    /** Raw input codes, and the code padding stands for (the input zero point). */
    private final int[] x;

    private final int pad;
    private final int ic;
    private final int ihw;
    private final ConvPanel panel;
    private final int[] y;
    private final int oc;
    private final int ocg;
    private final int icg;
    private final int groups;
    private final int taps;
    private final int depth;
    private final int oh;
    private final int ow;
    private final int hw;
    private final int width;
    private final boolean transposed;
    /** Depthwise (one input and one output channel per group): taps read in place ({@link IntTiles#taps}). */
    private final boolean inPlace;
    /** Output rows per band; output pixels per part when transposed. */
    private final int band;

    private final int bands;
    /** Input channels per chunk. */
    private final int chunk;

    private final int blocks;
    private final int blockSize;
    private final int items;
    private final int itemsPerTask;

    /**
     * @param wide sum in 64 bits (rows only), for products whose sums may leave int32
     * @param sumBound a bound on {@code |Σ_k w x|} over raw codes, for the requantizer's vector path
     */
    IntConvJob(
            QConv conv,
            int[] x,
            int pad,
            int n,
            int ic,
            int ih,
            int iw,
            ConvGeometry g,
            int[] y,
            boolean wide,
            long sumBound) {
        this.conv = conv;
        this.wide = wide;
        this.sumBound = sumBound;
        this.x = x;
        this.pad = pad;
        this.ic = ic;
        this.ihw = ih * iw;
        this.panel = new ConvPanel(g, ih, iw);
        this.y = y;
        this.oc = conv.outChannels();
        this.groups = conv.group();
        this.icg = conv.inChannelsPerGroup();
        this.ocg = oc / groups;
        this.taps = g.kh() * g.kw();
        this.depth = icg * taps;
        this.oh = g.oh();
        this.ow = g.ow();
        this.hw = oh * ow;
        this.width = panel.width();
        this.transposed = !wide && hw < TRANSPOSE_BELOW && ocg > hw;
        this.inPlace = !wide && icg == 1 && ocg == 1 && !panel.isIdentity() && TILES.tapsInPlace();
        int block;
        if (transposed) {
            block = Math.min(ocg, COLUMN_BLOCK);
            int len = oh * width;
            this.chunk = Math.max(1, Math.min(icg, PANEL_INTS / (taps * Math.max(len, block))));
            // Parts of the plane's pixels (the vector loop runs over channels, so splitting pixels
            // keeps it long), as many as it takes to keep every thread busy, at least 8 pixels each.
            long pieces = (long) n * groups * ((ocg + block - 1) / block);
            int parts = (int) Math.min(Math.max(1, hw / 8), Math.max(1, (2L * THREADS + pieces - 1) / pieces));
            this.band = (hw + parts - 1) / parts;
            this.bands = (hw + band - 1) / band;
        } else {
            int tile = Math.max(MIN_TILE, Math.min(MAX_TILE, PANEL_INTS / depth));
            int rowsPerBand = Math.max(1, Math.min(oh, tile / width));
            int nb = (oh + rowsPerBand - 1) / rowsPerBand;
            this.band = (oh + nb - 1) / nb;
            this.bands = (oh + band - 1) / band;
            int len = band * width;
            this.chunk = Math.max(1, Math.min(icg, PANEL_INTS / (taps * len)));
            // Sums kept across chunks: a bounded block of channels.
            block = chunk < icg ? Math.max(1, Math.min(ocg, ACC_INTS / len)) : ocg;
            long pieces = (long) n * groups * bands * ((ocg + block - 1) / block);
            if (pieces < 2L * THREADS && block > MIN_BLOCK) {
                // Too few pieces to keep every thread busy: split the channels further.
                long split = (2L * THREADS + pieces - 1) / pieces;
                block = (int) Math.max(MIN_BLOCK, (block + split - 1) / split);
            }
        }
        long units = (long) n * groups * bands;
        this.blockSize = block;
        this.blocks = (ocg + block - 1) / block;
        this.items = (int) (units * blocks);
        long work = (long) n * groups * hw * depth * (ocg + 1);
        long tasks = Math.max(1, Math.min(items, work / TASK_WORK));
        this.itemsPerTask = (int) ((items + tasks - 1) / tasks);
    }

    void execute() {
        int tasks = (items + itemsPerTask - 1) / itemsPerTask;
        if (tasks > 1) {
            IntStream.range(0, tasks).parallel().forEach(this::task);
        } else {
            task(0);
        }
    }

    private void task(int id) {
        ConvScratch s = ConvScratch.borrow();
        try {
            items(s, id);
        } finally {
            ConvScratch.release(s);
        }
    }

    private void items(ConvScratch s, int id) {
        int end = Math.min(items, (id + 1) * itemsPerTask);
        for (int item = id * itemsPerTask; item < end; item++) {
            int block = item % blocks;
            int unit = item / blocks;
            int bandIndex = unit % bands;
            int bg = unit / bands;
            int gi = bg % groups;
            int b = bg / groups;
            if (transposed) {
                byColumns(s, b, gi, bandIndex, block);
            } else if (inPlace) {
                byTaps(s, b, gi, bandIndex);
            } else if (wide) {
                byRowsWide(s, b, gi, bandIndex, block);
            } else {
                byRows(s, b, gi, bandIndex, block);
            }
        }
    }

    /** {@code len} rounded up to whole int vectors. */
    private static int span(int len) {
        return (len + LANES - 1) / LANES * LANES;
    }

    /** Gathers input channels [c0, c1) of group gi of sample b for output rows [r0, r1). */
    private int[][] gather(ConvScratch s, int b, int gi, int c0, int c1, int r0, int r1) {
        int[][] rows = s.rows((c1 - c0) * taps, span((r1 - r0) * width));
        int plane0 = (b * ic + gi * icg + c0) * ihw;
        panel.gather(x, pad, plane0, c1 - c0, r0, r1, rows, s.phases(panel, r1 - r0));
        return rows;
    }

    /** A depthwise channel's band, its taps read in place from the phase planes. */
    private void byTaps(ConvScratch s, int b, int gi, int bandIndex) {
        int r0 = bandIndex * band;
        int r1 = Math.min(oh, r0 + band);
        int len = (r1 - r0) * width;
        int[][] phase = s.phases(panel, r1 - r0);
        panel.phases(x, pad, (b * ic + gi) * ihw, r0, r1, phase);
        int[] acc = s.acc(len + FixedRows.SLACK);
        TILES.taps(conv.centredWeights(), gi * taps, taps, phase, panel.tapPhases(), panel.tapOffsets(), len, acc);
        store(s, b, gi, acc, width, r0, r1);
    }

    private void byRows(ConvScratch s, int b, int gi, int bandIndex, int block) {
        int r0 = bandIndex * band;
        int r1 = Math.min(oh, r0 + band);
        int len = (r1 - r0) * width;
        int o0 = gi * ocg + block * blockSize;
        int o1 = Math.min((gi + 1) * ocg, o0 + blockSize);
        int[] w = conv.centredWeights();
        boolean chunked = chunk < icg;
        int span = span(len);
        int[][] sums = s.sums(chunked ? o1 - o0 : Math.min(o1 - o0, SUB_BLOCK), span + FixedRows.SLACK);
        for (int c0 = 0; c0 < icg; c0 += chunk) {
            int c1 = Math.min(icg, c0 + chunk);
            int[][] rows = gather(s, b, gi, c0, c1, r0, r1);
            for (int os = o0; os < o1; os += SUB_BLOCK) {
                int oe = Math.min(o1, os + SUB_BLOCK);
                int first = chunked ? os - o0 : 0;
                TILES.multiply(
                        w,
                        os * depth + c0 * taps,
                        depth,
                        oe - os,
                        rows,
                        0,
                        (c1 - c0) * taps,
                        0,
                        span,
                        sums,
                        first,
                        c0 > 0);
                if (c1 == icg) {
                    for (int o = os; o < oe; o++) {
                        store(s, b, o, sums[first + o - os], width, r0, r1);
                    }
                }
            }
        }
    }

    /** {@link #byRows} with 64-bit sums over rows widened once per chunk. */
    private void byRowsWide(ConvScratch s, int b, int gi, int bandIndex, int block) {
        int r0 = bandIndex * band;
        int r1 = Math.min(oh, r0 + band);
        int len = (r1 - r0) * width;
        int o0 = gi * ocg + block * blockSize;
        int o1 = Math.min((gi + 1) * ocg, o0 + blockSize);
        int[] w = conv.centredWeights();
        long[][] sums = s.wideSums(chunk < icg ? o1 - o0 : 1, len);
        for (int c0 = 0; c0 < icg; c0 += chunk) {
            int c1 = Math.min(icg, c0 + chunk);
            int kc = (c1 - c0) * taps;
            int[][] rows = gather(s, b, gi, c0, c1, r0, r1);
            long[][] wideRows = s.wideRows(kc, len);
            for (int k = 0; k < kc; k++) {
                int[] src = rows[k];
                long[] dst = wideRows[k];
                for (int t = 0; t < len; t++) {
                    dst[t] = src[t];
                }
            }
            for (int o = o0; o < o1; o++) {
                long[] acc = sums[chunk < icg ? o - o0 : 0];
                IntGemmLoops.multiplyWide(w, o * depth + c0 * taps, wideRows, 0, kc, 0, len, acc, c0 > 0);
                if (c1 == icg) {
                    int[] codes = s.codes(len);
                    conv.requantizeRowWide(o, acc, len, sumBound, codes);
                    copyOut(codes, width, b, o, r0, r1);
                }
            }
        }
    }

    /**
     * Requantizes channel o's sums for output rows [r0, r1), {@code rowWidth} apart in acc (the flat
     * width, or ow), and stores its output rows.
     */
    private void store(ConvScratch s, int b, int o, int[] acc, int rowWidth, int r0, int r1) {
        int len = (r1 - r0) * rowWidth;
        int[] codes = s.codes(len + FixedRows.SLACK);
        conv.requantizeRow(o, acc, len, s.wide(len), codes);
        copyOut(codes, rowWidth, b, o, r0, r1);
    }

    /** Channel o's output rows [r0, r1) from codes {@code rowWidth} apart. */
    private void copyOut(int[] codes, int rowWidth, int b, int o, int r0, int r1) {
        int len = (r1 - r0) * rowWidth;
        int yRow = (b * oc + o) * hw + r0 * ow;
        if (rowWidth == ow) {
            System.arraycopy(codes, 0, y, yRow, len);
        } else {
            for (int r = 0; r < r1 - r0; r++) {
                System.arraycopy(codes, r * rowWidth, y, yRow + r * ow, ow);
            }
        }
    }

    private void byColumns(ConvScratch s, int b, int gi, int part, int block) {
        int p0 = part * band;
        int p1 = Math.min(hw, p0 + band);
        int np = p1 - p0;
        int j0 = block * blockSize;
        int j1 = Math.min(ocg, j0 + blockSize);
        int[][] wt = conv.transposedWeights(gi);
        int[][] sums = s.sums(np, ocg);
        for (int c0 = 0; c0 < icg; c0 += chunk) {
            int c1 = Math.min(icg, c0 + chunk);
            int kc = (c1 - c0) * taps;
            // Each pixel's taps in a row of their own, read in order by the vector loop's scalar operand.
            int[] pixels = s.pixels(np * kc);
            if (panel.isIdentity()) {
                // A 1x1 kernel at unit stride: tap k is input channel c0 + k, pixel p its plane's
                // element p, read in place rather than gathering whole planes for a part of them.
                int plane0 = (b * ic + gi * icg + c0) * ihw + p0;
                for (int k = 0; k < kc; k++) {
                    int src = plane0 + k * ihw;
                    for (int p = 0; p < np; p++) {
                        pixels[p * kc + k] = x[src + p];
                    }
                }
            } else {
                int[][] rows = gather(s, b, gi, c0, c1, 0, oh);
                for (int k = 0; k < kc; k++) {
                    int[] row = rows[k];
                    int r = p0 / ow;
                    int q = p0 % ow;
                    for (int p = 0; p < np; p++) {
                        pixels[p * kc + k] = row[r * width + q];
                        if (++q == ow) {
                            q = 0;
                            r++;
                        }
                    }
                }
            }
            TILES.multiply(pixels, 0, kc, np, wt, c0 * taps, kc, j0, j1, sums, 0, c0 > 0);
        }
        // Back to one row per output channel, requantized as a row and stored at once.
        int[] acc = s.acc(np + FixedRows.SLACK);
        int[] codes = s.codes(np + FixedRows.SLACK);
        for (int j = j0; j < j1; j++) {
            for (int p = 0; p < np; p++) {
                acc[p] = sums[p][j];
            }
            int o = gi * ocg + j;
            conv.requantizeRow(o, acc, np, s.wide(np), codes);
            System.arraycopy(codes, 0, y, (b * oc + o) * hw + p0, np);
        }
    }
}
