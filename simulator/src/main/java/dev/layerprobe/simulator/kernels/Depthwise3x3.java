package dev.layerprobe.simulator.kernels;

import java.util.Arrays;

/**
 * One channel of a depthwise 3x3 convolution (dilation 1, stride 1 or 2, any padding) in float32,
 * NCHW planes.
 *
 * <p>Each output is {@code bias + w[0][0]*x + w[0][1]*x + ... + w[2][2]*x}, evaluated left to right
 * (taps in kernel-row, kernel-column order) with padding read as zeros, so a pad tap adds a signed
 * zero: results match the tap-skipping generic path except possibly the sign of an exact zero.
 *
 * <p>Why the row copies: HotSpot C2 (JDK 17) vectorises only loops in which every array is
 * indexed by the loop variable alone (not {@code j + 1}, not {@code 2 * j}, not {@code off + j}).
 * So each input row is copied once into three tap rows, {@code tap[kw][j] = x[row][j*stride + kw -
 * padLeft]} (zero outside the input), and each kernel row's pass reads three distinct arrays at j. Three
 * consecutive input rows feed an output row; a three-slot ring keyed by row index keeps each
 * prepared row for the output rows that share it. Instances are per task, not thread-safe.
 */
final class Depthwise3x3 {
    private final int ih;
    private final int iw;
    private final int oh;
    private final int ow;
    private final int stride;
    private final int padTop;
    private final int padLeft;
    /** Tap rows by ring slot and kernel column. */
    private final float[][][] taps = new float[3][3][];
    private final int[] rowOfSlot = new int[3];
    private final float[] outRow;

    Depthwise3x3(int ih, int iw, int oh, int ow, int stride, int padTop, int padLeft) {
        if (stride != 1 && stride != 2) {
            throw new IllegalArgumentException("stride " + stride + " (valid: 1, 2)");
        }
        this.ih = ih;
        this.iw = iw;
        this.oh = oh;
        this.ow = ow;
        this.stride = stride;
        this.padTop = padTop;
        this.padLeft = padLeft;
        for (float[][] slot : taps) {
            for (int kw = 0; kw < 3; kw++) {
                slot[kw] = new float[ow];
            }
        }
        outRow = new float[ow];
    }

    static boolean supports(int kh, int kw, int stride, int dilation) {
        return kh == 3 && kw == 3 && (stride == 1 || stride == 2) && dilation == 1;
    }

    /** Computes one output plane; the strides are the same in both directions. */
    void plane(float[] x, int xBase, float[] w, int wBase, float bias, float[] out, int oBase) {
        Arrays.fill(rowOfSlot, Integer.MIN_VALUE);
        float w0 = w[wBase];
        float w1 = w[wBase + 1];
        float w2 = w[wBase + 2];
        float w3 = w[wBase + 3];
        float w4 = w[wBase + 4];
        float w5 = w[wBase + 5];
        float w6 = w[wBase + 6];
        float w7 = w[wBase + 7];
        float w8 = w[wBase + 8];
        float[] o = outRow;
        int n = ow;
        for (int r = 0; r < oh; r++) {
            int top = r * stride - padTop;
            float[][] t0 = taps[prepare(x, xBase, top)];
            float[][] t1 = taps[prepare(x, xBase, top + 1)];
            float[][] t2 = taps[prepare(x, xBase, top + 2)];
            Arrays.fill(o, bias);
            // One pass per kernel row: C2 stops vectorising past about four source arrays per loop.
            taps(o, t0[0], t0[1], t0[2], w0, w1, w2, n);
            taps(o, t1[0], t1[1], t1[2], w3, w4, w5, n);
            taps(o, t2[0], t2[1], t2[2], w6, w7, w8, n);
            System.arraycopy(o, 0, out, oBase + r * ow, ow);
        }
    }

    /** o[j] = ((o[j] + w0 a0[j]) + w1 a1[j]) + w2 a2[j]: the taps in order. */
    private static void taps(float[] o, float[] a0, float[] a1, float[] a2, float w0, float w1, float w2, int n) {
        for (int j = 0; j < n; j++) {
            o[j] = o[j] + w0 * a0[j] + w1 * a1[j] + w2 * a2[j];
        }
    }

    /** Makes input row {@code row} (zeros outside the input) ready in its slot; returns the slot. */
    private int prepare(float[] x, int xBase, int row) {
        int slot = Math.floorMod(row, 3);
        if (rowOfSlot[slot] == row) {
            return slot;
        }
        rowOfSlot[slot] = row;
        for (int kw = 0; kw < 3; kw++) {
            float[] t = taps[slot][kw];
            if (row < 0 || row >= ih) {
                Arrays.fill(t, 0f);
                continue;
            }
            // Output column j reads input column j*stride + off; [lo, hi) are the j inside the row.
            int off = kw - padLeft;
            int lo = Math.min(ow, Math.max(0, -Math.floorDiv(off, stride)));
            int hi = Math.max(lo, Math.min(ow, -Math.floorDiv(-(iw - off), stride)));
            Arrays.fill(t, 0, lo, 0f);
            Arrays.fill(t, hi, ow, 0f);
            int src = xBase + row * iw + off;
            if (stride == 1) {
                if (hi > lo) {
                    System.arraycopy(x, src + lo, t, lo, hi - lo);
                }
            } else {
                for (int j = lo; j < hi; j++) {
                    t[j] = x[src + j * stride];
                }
            }
        }
        return slot;
    }
}
