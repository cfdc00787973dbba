package dev.layerprobe.simulator.kernels;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * A depthwise Conv (one input and one output channel per group) of any kernel size and dilation,
 * stride 1 or 2 in each direction, over zero-padded phase planes, with the register-blocked tiles
 * ({@link FloatTiles#taps}).
 *
 * <p>Numerics: each output is the bias plus the products of the taps in kernel order (kernel row,
 * then kernel column), one rounding per multiply and per add, padding read as zeros, the clamp
 * applied once: the order of {@link Depthwise3x3}, so for 3x3 kernels the two give the same bits.
 *
 * <p>How: with the input padded by (padTop, padLeft) and read as zeros outside, output (r, c) reads
 * padded row {@code sh*r + u} and column {@code sw*c + v} for tap (i, j), {@code u = i*dh}, {@code
 * v = j*dw}. Phase plane (a, b) holds the padded rows {@code sh*y + a} and columns {@code sw*x + b};
 * the tap reads it at row {@code r + u/sh}, column {@code c + v/sw} for {@code a = u % sh}, {@code
 * b = v % sw}. At stride 1 the single phase plane is the padded input. Every phase plane is qw
 * columns wide (ow plus the largest column shift), and the outputs are computed on the grid of that
 * width: grid position {@code t = r*qw + c} of tap k reads the phase planes at {@code koff[k] + t},
 * one offset per tap, so each tap is one contiguous run of vector loads; the grid's qw - ow extra
 * columns per row are computed and dropped. Small planes go several per task, large ones in bands
 * of output rows, so that a task's phase planes and grid stay in L1/L2.
 *
 * <p>Why: the tap-copy form ({@link Depthwise3x3#flat}) writes and reads nine copies of its input
 * to give C2 loops it vectorises; the Vector API loads at any offset, so the input is copied once
 * (twice at stride 2: the split into phases reads each element once). Stateless.
 */
final class PaddedDepthwise {
    /** Grid floats per task (phase planes about as many): a task's working set stays in L2. */
    private static final int GRID_FLOATS = 4096;

    /**
     * The grid is computed in whole runs of this many positions (a multiple of every vector
     * length), the extra ones dropped: no scalar tail per plane.
     */
    private static final int ROUND = 16;

    private static final FloatTiles TILES = FloatTiles.best();
    /** Per-thread phase planes and grid, grown on demand; a task uses them only while it runs. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);

    private PaddedDepthwise() {}

    /** Whether this geometry runs here: the register-blocked tiles present, strides 1 or 2, pads not negative. */
    static boolean supports(ConvKernel.Dim dh, ConvKernel.Dim dw) {
        return TILES.blocked()
                && (dh.stride() == 1 || dh.stride() == 2)
                && (dw.stride() == 1 || dw.stride() == 2)
                && dh.padBegin() >= 0
                && dw.padBegin() >= 0
                && dh.out() >= 1
                && dw.out() >= 1;
    }

    /**
     * Output plane t of [0, planes) = clamp(bias[t % m] + Σ_k w[(t % m)*K + k] * tap k of input
     * plane t), planes at {@code x[t*ih*iw]} and {@code out[t*oh*ow]}, K = kH*kW; a null bias counts
     * as zeros.
     */
    static void run(
            float[] x,
            float[] w,
            float[] bias,
            int m,
            int planes,
            float[] out,
            ConvKernel.Dim dh,
            ConvKernel.Dim dw,
            boolean clamp,
            float lo,
            float hi,
            boolean parallel) {
        int sh = dh.stride();
        int sw = dw.stride();
        int oh = dh.out();
        int ow = dw.out();
        int kn = dh.k() * dw.k();
        int diMax = (dh.k() - 1) * dh.dilation() / sh;
        int djMax = (dw.k() - 1) * dw.dilation() / sw;
        int qw = ow + djMax;
        int bandRows = Math.max(1, Math.min(oh, GRID_FLOATS / qw));
        int perTask = bandRows == oh ? Math.max(1, GRID_FLOATS / (oh * qw)) : 1;
        int bands = (oh + bandRows - 1) / bandRows;
        // Phase planes of a band hold its rows plus the rows the lowest taps reach below it.
        int ph = bandRows + diMax;
        int[] koff = new int[kn];
        boolean[] phases = new boolean[sh * sw];
        for (int i = 0, k = 0; i < dh.k(); i++) {
            for (int j = 0; j < dw.k(); j++, k++) {
                int u = i * dh.dilation();
                int v = j * dw.dilation();
                int phase = (u % sh) * sw + v % sw;
                phases[phase] = true;
                koff[k] = (phase * ph + u / sh) * qw + v / sw;
            }
        }
        Geometry g = new Geometry(dh, dw, qw, ph, bandRows, kn, koff, phases);
        int units = (planes + perTask - 1) / perTask * bands;
        IntStream tasks = IntStream.range(0, units);
        if (parallel && units > 1) {
            tasks = tasks.parallel();
        }
        tasks.forEach(u -> {
            int t0 = (u / bands) * perTask;
            int r0 = (u % bands) * bandRows;
            int r1 = Math.min(oh, r0 + bandRows);
            float[][] buf = SCRATCH.get();
            // The last taps read up to djMax + ROUND floats past the phase planes (for dropped
            // grid positions), whatever those floats hold.
            int need = sh * sw * ph * qw + djMax + ROUND;
            if (buf[0].length < need) {
                buf[0] = new float[need];
            }
            if (buf[1].length < roundUp(bandRows * qw)) {
                buf[1] = new float[roundUp(bandRows * qw)];
            }
            for (int t = t0; t < Math.min(planes, t0 + perTask); t++) {
                int c = t % m;
                band(
                        x,
                        t * dh.in() * dw.in(),
                        w,
                        c * kn,
                        bias == null ? 0f : bias[c],
                        out,
                        t * oh * ow,
                        r0,
                        r1,
                        g,
                        clamp,
                        lo,
                        hi,
                        buf[0],
                        buf[1]);
            }
        });
    }

    /** The run's shape: phase planes of ph rows of qw, the taps' offsets into them. */
    private record Geometry(
            ConvKernel.Dim dh, ConvKernel.Dim dw, int qw, int ph, int bandRows, int kn, int[] koff, boolean[] phases) {}

    /** Output rows [r0, r1) of one plane: phase planes, the grid, then the kept columns. */
    private static void band(
            float[] x,
            int xb,
            float[] w,
            int wb,
            float bias,
            float[] out,
            int ob,
            int r0,
            int r1,
            Geometry g,
            boolean clamp,
            float lo,
            float hi,
            float[] p,
            float[] o) {
        int sh = g.dh.stride();
        int sw = g.dw.stride();
        int qw = g.qw;
        int rows = r1 - r0;
        int used = rows + g.ph - g.bandRows;
        // Row by row of the input (the phases of a row in turn), so the reads are in order.
        for (int y = 0; y < used; y++) {
            for (int a = 0; a < sh; a++) {
                for (int b = 0; b < sw; b++) {
                    // Both column phases of a row at stride 2 are made by b = 0's pass.
                    boolean paired = sw == 2 && b == 1 && g.phases[a * sw];
                    if (g.phases[a * sw + b] && !paired) {
                        phaseRow(x, xb, p, (a * sw + b) * g.ph * qw + y * qw, sh * (r0 + y) + a, b, g);
                    }
                }
            }
        }
        TILES.taps(p, g.koff, g.kn, w, wb, bias, clamp, lo, hi, o, 0, roundUp(rows * qw));
        int ow = g.dw.out();
        for (int r = 0; r < rows; r++) {
            System.arraycopy(o, r * qw, out, ob + (r0 + r) * ow, ow);
        }
    }

    /**
     * Row {@code d} of phase plane (a, b) (p[d], qw floats): padded row {@code prow} = sh*(r0 + y) +
     * a, its columns sw*j + b, zeros outside the input. At stride 2 in width both column phases of
     * the row are made in one pass (b = 0 asks for both when both are read; the pair are
     * consecutive planes).
     */
    private static void phaseRow(float[] x, int xb, float[] p, int d, int prow, int b, Geometry g) {
        int sw = g.dw.stride();
        int iw = g.dw.in();
        int qw = g.qw;
        int left = g.dw.padBegin();
        int plane = g.ph * qw;
        int row = prow - g.dh.padBegin();
        boolean pair = sw == 2 && b == 0 && g.phases[(prow % g.dh.stride()) * sw + 1];
        if (row < 0 || row >= g.dh.in()) {
            Arrays.fill(p, d, d + qw, 0f);
            if (pair) {
                Arrays.fill(p, d + plane, d + plane + qw, 0f);
            }
            return;
        }
        // Columns j whose input column sw*j + b - left lies in [0, iw).
        int jLo = Math.min(qw, Math.max(0, -Math.floorDiv(b - left, sw)));
        int jHi = Math.max(jLo, Math.min(qw, -Math.floorDiv(-(iw - b + left), sw)));
        int src = xb + row * iw - left;
        zeroOutside(p, d, jLo, jHi, qw);
        if (sw == 1) {
            if (jHi - jLo < 32) {
                // Short rows (small planes): a call per row would cost more than the copy.
                for (int j = jLo; j < jHi; j++) {
                    p[d + j] = x[src + j];
                }
            } else {
                System.arraycopy(x, src + jLo, p, d + jLo, jHi - jLo);
            }
        } else if (pair) {
            int kLo = Math.min(qw, Math.max(0, -Math.floorDiv(1 - left, sw)));
            int kHi = Math.max(kLo, Math.min(qw, -Math.floorDiv(-(iw - 1 + left), sw)));
            zeroOutside(p, d + plane, kLo, kHi, qw);
            // Columns j in [lo, hi) of both phases read input pairs (2j - left, 2j + 1 - left).
            int lo = Math.max(jLo, kLo);
            int hi = Math.max(lo, Math.min(jHi, kHi));
            TILES.deinterleave(x, src + 2 * lo, p, d + lo, p, d + plane + lo, hi - lo);
            // The few columns only one phase reads (at the padding).
            copyEvery2(x, src, p, d, jLo, Math.min(lo, jHi));
            copyEvery2(x, src, p, d, Math.max(hi, jLo), jHi);
            copyEvery2(x, src + 1, p, d + plane, kLo, Math.min(lo, kHi));
            copyEvery2(x, src + 1, p, d + plane, Math.max(hi, kLo), kHi);
        } else {
            // A lone column phase (the other one unread).
            copyEvery2(x, src + b, p, d, jLo, jHi);
        }
    }

    /** p[d + j] = x[src + 2j] for j in [from, to). */
    private static void copyEvery2(float[] x, int src, float[] p, int d, int from, int to) {
        for (int j = from; j < to; j++) {
            p[d + j] = x[src + 2 * j];
        }
    }

    /** p[d + j] = 0 for j in [0, lo) and [hi, qw): the few padding columns of a row. */
    private static void zeroOutside(float[] p, int d, int lo, int hi, int qw) {
        for (int j = 0; j < lo; j++) {
            p[d + j] = 0f;
        }
        for (int j = hi; j < qw; j++) {
            p[d + j] = 0f;
        }
    }

    private static int roundUp(int v) {
        return (v + ROUND - 1) / ROUND * ROUND;
    }
}
