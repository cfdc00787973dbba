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
 *
 * <p>That per-row path costs a few calls per output row, which dominates on small planes (7x7,
 * 14x14) and strided gathers at stride 2; {@link #flat} (static, thread-safe, per-thread scratch)
 * instead processes several whole planes, or a band of rows of a large one, as one flat array and
 * is used wherever its geometry condition {@link #flatSupports} holds.
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

    /** Floats per tap array of one {@link #flat} call: the fourteen arrays stay in L2. */
    static final int FLAT_FLOATS = 4096;

    private static final FloatTiles TILES = FloatTiles.best();

    /**
     * Per-thread scratch of {@link #flat}: nine tap arrays, the output and four phase planes, grown
     * on demand; a call uses them only while it runs.
     */
    private static final ThreadLocal<float[][]> FLAT_SCRATCH = ThreadLocal.withInitial(() -> new float[14][0]);

    /**
     * Whether {@link #flat} handles this geometry: the output grid fits the input grid (stride 1)
     * or the grid of one phase plane (stride 2, even rows and columns of the input, rounded up).
     */
    static boolean flatSupports(int ih, int iw, int oh, int ow, int stride, int padTop, int padLeft) {
        if (oh < 1 || ow < 1 || padTop < 0 || padLeft < 0) {
            return false;
        }
        return stride == 1 ? oh <= ih && ow <= iw : oh <= (ih + 1) / 2 && ow <= (iw + 1) / 2;
    }

    /** Planes per {@link #flat} call for input planes of ih x iw (1: the plane goes in row bands). */
    static int flatChannels(int ih, int iw) {
        return Math.max(1, FLAT_FLOATS / Math.max(1, ih * iw));
    }

    /** Output rows per {@link #flat} call when one plane is too large for one call. */
    static int flatBandRows(int iw, int stride) {
        int pw = stride == 1 ? iw : (iw + 1) / 2;
        return Math.max(1, FLAT_FLOATS / Math.max(1, pw));
    }

    /**
     * Output rows [r0, r1) of planes [t0, t1) of a depthwise 3x3 conv (dilation 1): input plane t at
     * {@code x[t*ih*iw]}, weights at {@code w[(t % m)*9]}, bias {@code bias[t % m]} (null: zeros),
     * output plane t at {@code out[t*oh*ow]}, clamped to [lo, hi] when {@code clamp}. Several
     * planes go whole (r0 = 0, r1 = oh); a large plane goes in bands of rows, one plane per call.
     *
     * <p>The planes are processed flat, as one array of rows of a common width pw (iw at stride 1).
     * Tap (kh, kw) of output (r, c) reads source row r + di, column c + dj of one source plane, so
     * each of the nine tap arrays is one copy of the whole run of source rows, shifted by
     * di*pw + dj, with the positions whose source row or column falls outside the plane (including
     * those that would read a neighbouring plane or row) zeroed. At stride 1 the source is the input
     * itself (di = kh - padTop, dj = kw - padLeft); at stride 2 the input is first split into its
     * four phase planes (even/odd rows x even/odd columns), and each tap reads one of them, so no
     * product is wasted. Then two passes of 5 and 4 taps per plane, over the whole plane or band
     * rather than one short row. Each output is the bias plus the taps in kernel order, pad taps
     * adding w*0, as in {@link #plane}.
     */
    static void flat(
            float[] x,
            float[] w,
            float[] bias,
            int m,
            float[] out,
            int t0,
            int t1,
            int r0,
            int r1,
            int ih,
            int iw,
            int oh,
            int ow,
            int stride,
            int padTop,
            int padLeft,
            boolean clamp,
            float lo,
            float hi) {
        int planes = t1 - t0;
        int inPlane = ih * iw;
        int plane = oh * ow;
        // The source planes: the input (stride 1) or its phase planes (stride 2), each ph x pw; the
        // output grid is rows of width pw. Tap and output arrays hold the planes in blocks of cs.
        int ph = stride == 1 ? ih : (ih + 1) / 2;
        int pw = stride == 1 ? iw : (iw + 1) / 2;
        int rows = r1 - r0;
        int cs = planes == 1 ? rows * pw : ph * pw;
        int len = planes * cs;
        float[][] buf = FLAT_SCRATCH.get();
        int arrays = stride == 1 ? 10 : 14;
        int phaseLen = planes * ph * pw;
        for (int i = 0; i < arrays; i++) {
            int need = i < 10 ? len : phaseLen;
            if (buf[i].length < need) {
                buf[i] = new float[Math.max(need, FLAT_FLOATS)];
            }
        }
        if (stride != 1) {
            // Phase plane (a, b) holds input rows 2i + a, columns 2j + b; only the rows the band reads.
            int diMin = Math.floorDiv(-padTop, 2);
            int diMax = Math.floorDiv(2 - padTop, 2);
            int yLo = Math.max(0, 2 * (r0 + diMin));
            int yHi = Math.min(ih, 2 * (r1 - 1 + diMax) + 2);
            int pairs = iw >> 1;
            for (int p = 0; p < planes; p++) {
                int xb = (t0 + p) * inPlane;
                for (int y = yLo; y < yHi; y++) {
                    float[] even = buf[10 + 2 * (y & 1)];
                    float[] odd = buf[11 + 2 * (y & 1)];
                    int src = xb + y * iw;
                    int dst = p * ph * pw + (y >> 1) * pw;
                    TILES.deinterleave(x, src, even, dst, odd, dst, pairs);
                    if ((iw & 1) != 0) {
                        even[dst + pairs] = x[src + iw - 1];
                    }
                }
            }
        }
        for (int k = 0; k < 9; k++) {
            int kh = k / 3;
            int kw = k % 3;
            float[] src;
            int srcBase;
            int di;
            int dj;
            int rowsValid;
            int colsValid;
            if (stride == 1) {
                src = x;
                srcBase = t0 * inPlane;
                di = kh - padTop;
                dj = kw - padLeft;
                rowsValid = ih;
                colsValid = iw;
            } else {
                int a = Math.floorMod(kh - padTop, 2);
                int b = Math.floorMod(kw - padLeft, 2);
                src = buf[10 + 2 * a + b];
                srcBase = 0;
                di = Math.floorDiv(kh - padTop, 2);
                dj = Math.floorDiv(kw - padLeft, 2);
                rowsValid = (ih - a + 1) / 2;
                colsValid = (iw - b + 1) / 2;
            }
            float[] tap = buf[k];
            int d = srcBase + (r0 + di) * pw + dj;
            int from = Math.max(0, -d);
            int to = Math.min(len, src.length - d);
            if (to > from) {
                System.arraycopy(src, d + from, tap, from, to - from);
            }
            // Zero what reads outside the source plane: whole rows, then columns of the other rows.
            // (Whatever the clipped copy left stale is among these.) Row indices are band-relative.
            int rowLo = Math.min(rows, Math.max(0, -di - r0));
            int rowHi = Math.max(rowLo, Math.min(rows, rowsValid - di - r0));
            int colLo = Math.min(pw, Math.max(0, -dj));
            int colHi = Math.max(colLo, Math.min(pw, colsValid - dj));
            if (rowLo > 0 || rowHi < rows) {
                for (int p = 0; p < planes; p++) {
                    int pb = p * cs;
                    if (rowLo > 0) {
                        Arrays.fill(tap, pb, pb + rowLo * pw, 0f);
                    }
                    if (rowHi < rows) {
                        Arrays.fill(tap, pb + rowHi * pw, pb + rows * pw, 0f);
                    }
                }
            }
            // Plane blocks are whole rows (cs is a multiple of pw), so a column is every pw-th
            // position of the run (also zeroing rows zeroed above or never read: harmless).
            for (int col = 0; col < colLo; col++) {
                for (int j = col; j < len; j += pw) {
                    tap[j] = 0f;
                }
            }
            for (int col = colHi; col < pw; col++) {
                for (int j = col; j < len; j += pw) {
                    tap[j] = 0f;
                }
            }
        }
        float[] o = buf[9];
        int grid = rows * pw;
        for (int t = t0; t < t1; t++) {
            int j0 = (t - t0) * cs;
            TILES.taps9(buf, w, (t % m) * 9, bias == null ? 0f : bias[t % m], j0, j0 + grid, clamp, lo, hi, o);
            int ob = t * plane + r0 * ow;
            if (ow == pw) {
                System.arraycopy(o, j0, out, ob, rows * ow);
            } else {
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(o, j0 + r * pw, out, ob + r * ow, ow);
                }
            }
        }
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
