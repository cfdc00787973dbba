package dev.layerprobe.simulator.kernels.quantized;

import java.util.stream.IntStream;

/**
 * One call of {@link QConv} on the int32 path: how the output is cut into tasks and the work of a
 * task (gather im2col rows with {@link ConvPanel}, sum products with {@link IntGemmLoops},
 * requantize). The numerics are {@link QConv}'s; every output element is computed by one task, from
 * the same exact integer sum whatever the tiling, so results do not depend on threads or
 * scheduling. Filled in by the thread that creates it, then only read by its tasks, which write
 * disjoint elements of the output.
 *
 * <p>Two forms of the product per group, {@code C[o][p] = Σ_k W[o][k] X[k][p]}:
 * <ul>
 *   <li>by rows: a task gathers X for a tile of output pixels once, then for each output channel
 *       of its block runs the vector loop over the tile's pixels and requantizes the row;</li>
 *   <li>transposed, for small planes with more output channels than pixels (1x1 convs on 7x7
 *       planes, where a row of 49 pixels is too short a vector loop): the loop runs over the
 *       group's output channels against the weights stored transposed, one pixel at a time.</li>
 * </ul>
 */
final class IntConvJob {
    /** Ints of a task's gathered rows: they stay in L2 while every output channel reads them. */
    private static final int PANEL_INTS = 1 << 16;
    /** Widest and narrowest tile of pixels (the vector loop's trip count). */
    private static final int MAX_TILE = 2048;

    private static final int MIN_TILE = 64;
    /** Transposed form below this many output pixels per plane (and more output channels than pixels). */
    static final int TRANSPOSE_BELOW = 128;
    /** Multiply-adds (plus gathered values) per task at least, so that fork/join overhead stays small. */
    private static final long TASK_WORK = 1L << 17;
    /** Fewest output channels a task takes when channels are split. */
    private static final int MIN_BLOCK = 16;
    /** A parallel stream runs on the common pool's workers and on the calling thread. */
    private static final int THREADS =
            java.util.concurrent.ForkJoinPool.commonPool().getParallelism() + 1;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final QConv conv;
    private final int[] xc;
    private final int ic;
    private final int ih;
    private final int iw;
    private final ConvPanel panel;
    private final int[] y;
    private final int oc;
    private final int ocg;
    private final int icg;
    private final int groups;
    private final int depth;
    private final int oh;
    private final int ow;
    private final int hw;
    private final int width;
    private final boolean transposed;
    /** Output rows per band (the whole plane when transposed). */
    private final int band;

    private final int bands;
    private final int blocks;
    private final int blockSize;
    private final int items;
    private final int itemsPerTask;

    IntConvJob(QConv conv, int[] xc, int n, int ic, int ih, int iw, ConvGeometry g, int[] y) {
        this.conv = conv;
        this.xc = xc;
        this.ic = ic;
        this.ih = ih;
        this.iw = iw;
        this.panel = new ConvPanel(g, ih, iw);
        this.y = y;
        this.oc = conv.outChannels();
        this.groups = conv.group();
        this.icg = conv.inChannelsPerGroup();
        this.ocg = oc / groups;
        this.depth = icg * g.kh() * g.kw();
        this.oh = g.oh();
        this.ow = g.ow();
        this.hw = oh * ow;
        this.width = panel.width();
        this.transposed = hw < TRANSPOSE_BELOW && ocg > hw;
        int tileInts = Math.max(MIN_TILE, Math.min(MAX_TILE, PANEL_INTS / Math.max(1, depth)));
        int rowsPerBand = transposed ? oh : Math.max(1, Math.min(oh, tileInts / width));
        int nb = (oh + rowsPerBand - 1) / rowsPerBand;
        this.band = (oh + nb - 1) / nb;
        this.bands = (oh + band - 1) / band;
        long units = (long) n * groups * bands;
        int chunk = ocg;
        if (transposed) {
            // The loop runs over output channels: a block of them keeps its weights in L2 for every pixel.
            chunk = Math.min(ocg, Math.max(MIN_BLOCK, PANEL_INTS / depth / 16 * 16));
        } else if (units < 2L * THREADS) {
            // Too few bands to keep every thread busy: split the channels too (each block gathers its band).
            int split = (int) ((2L * THREADS + units - 1) / units);
            chunk = Math.max(Math.min(ocg, MIN_BLOCK), (ocg + split - 1) / split);
        }
        this.blockSize = chunk;
        this.blocks = (ocg + chunk - 1) / chunk;
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
        Scratch s = SCRATCH.get();
        int end = Math.min(items, (id + 1) * itemsPerTask);
        for (int item = id * itemsPerTask; item < end; item++) {
            int block = item % blocks;
            int unit = item / blocks;
            int bandIndex = unit % bands;
            int bg = unit / bands;
            int gi = bg % groups;
            int b = bg / groups;
            if (transposed) {
                byColumns(s, b, gi, block);
            } else {
                byRows(s, b, gi, bandIndex, block);
            }
        }
    }

    private int[][] gather(Scratch s, int b, int gi, int r0, int r1) {
        int[][] rows = s.rows(depth, (r1 - r0) * width);
        panel.gather(xc, (b * ic + gi * icg) * ih * iw, icg, r0, r1, rows, s.phases(panel, r1 - r0));
        return rows;
    }

    private void byRows(Scratch s, int b, int gi, int bandIndex, int block) {
        int r0 = bandIndex * band;
        int r1 = Math.min(oh, r0 + band);
        int len = (r1 - r0) * width;
        int[][] rows = gather(s, b, gi, r0, r1);
        int[] acc = s.acc(len);
        long[] wide = s.wide(len);
        int[] codes = s.codes(len);
        int o0 = gi * ocg + block * blockSize;
        int o1 = Math.min((gi + 1) * ocg, o0 + blockSize);
        int[] w = conv.centredWeights();
        for (int o = o0; o < o1; o++) {
            IntGemmLoops.multiply(w, o * depth, depth, rows, len, acc);
            conv.requantizeRow(o, acc, len, wide, codes);
            int yRow = (b * oc + o) * hw + r0 * ow;
            if (width == ow) {
                System.arraycopy(codes, 0, y, yRow, len);
            } else {
                for (int r = 0; r < r1 - r0; r++) {
                    System.arraycopy(codes, r * width, y, yRow + r * ow, ow);
                }
            }
        }
    }

    private void byColumns(Scratch s, int b, int gi, int block) {
        int j0 = block * blockSize;
        int j1 = Math.min(ocg, j0 + blockSize);
        int[][] rows = gather(s, b, gi, 0, oh);
        int[][] wt = conv.transposedWeights(gi);
        int[][] sums = s.sums(hw, ocg);
        for (int p = 0; p < hw; p++) {
            IntGemmLoops.multiplyColumn(rows, (p / ow) * width + p % ow, depth, wt, j0, j1, sums[p]);
        }
        // Back to one row per output channel, requantized as a row and stored at once.
        int[] acc = s.acc(hw);
        long[] wide = s.wide(hw);
        int[] codes = s.codes(hw);
        for (int j = j0; j < j1; j++) {
            for (int p = 0; p < hw; p++) {
                acc[p] = sums[p][j];
            }
            int o = gi * ocg + j;
            conv.requantizeRow(o, acc, hw, wide, codes);
            System.arraycopy(codes, 0, y, (b * oc + o) * hw, hw);
        }
    }

    /** Scratch arrays of one thread, grown on demand; a task uses them only while it runs. */
    private static final class Scratch {
        private int[][] rows = new int[0][];
        private int[] acc = new int[0];
        private long[] wide = new long[0];
        private int[] codes = new int[0];

        private int[][] sums = new int[0][];
        private int[][] phases = new int[0][];

        int[][] rows(int count, int len) {
            rows = ensure(rows, count, len);
            return rows;
        }

        int[][] sums(int count, int len) {
            sums = ensure(sums, count, len);
            return sums;
        }

        int[][] phases(ConvPanel panel, int bandRows) {
            phases = ensure(phases, panel.phases(), panel.phaseInts(bandRows));
            return phases;
        }

        private static int[][] ensure(int[][] arrays, int count, int len) {
            int[][] a = arrays.length < count ? java.util.Arrays.copyOf(arrays, count) : arrays;
            for (int i = 0; i < count; i++) {
                if (a[i] == null || a[i].length < len) {
                    a[i] = new int[Math.max(len, 16)];
                }
            }
            return a;
        }

        int[] acc(int len) {
            if (acc.length < len) {
                acc = new int[len];
            }
            return acc;
        }

        long[] wide(int len) {
            if (wide.length < len) {
                wide = new long[len];
            }
            return wide;
        }

        int[] codes(int len) {
            if (codes.length < len) {
                codes = new int[len];
            }
            return codes;
        }
    }
}
