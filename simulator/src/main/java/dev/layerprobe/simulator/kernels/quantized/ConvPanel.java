package dev.layerprobe.simulator.kernels.quantized;

/**
 * The im2col rows of a band of output rows of one group of one sample, for {@link IntGemmLoops}, in
 * a flat layout that makes every row one array copy. Immutable; {@link #gather} uses only the
 * scratch it is given.
 *
 * <p>Output pixel (r, q) has the flat index {@code t = r * width + q}; columns {@code q >= ow} are
 * don't-care (their sums are computed and dropped), which is what lets a tap's row be a single
 * shifted copy. Tap (ky, kx) of output (r, q) reads padded input row {@code r*sh + ky*dh}, column
 * {@code q*sw + kx*dw}; split by the remainder of those offsets modulo the strides into phase
 * planes {@code phase[ρ][γ][i][j] = padded[i*sh + ρ][j*sw + γ]} of {@code width} columns, the tap
 * reads phase {@code ((ky*dh) % sh, (kx*dw) % sw)} at row {@code r + (ky*dh)/sh}, column
 * {@code q + (kx*dw)/sw}: flat index {@code t} plus a constant. So {@code rows[(c*kh + ky)*kw + kx]}
 * is one {@code System.arraycopy} of a phase plane of channel c, built once per channel and band
 * (for unit strides the padded plane itself). Padding is filled with a given code (the input zero
 * point: real zero). A 1x1 kernel at unit stride without padding reads the input planes as they
 * are.
 */
final class ConvPanel {
    private final ConvGeometry g;
    private final int ih;
    private final int iw;
    /** Columns of the flat layout: the output width plus the kernel's reach beyond it, in phase columns. */
    private final int width;
    /** Extra phase rows a band reads below its last output row. */
    private final int extraRows;

    private final boolean identity;
    private final int taps;
    /** Per tap (ky * kw + kx): its phase plane (ρ * sw + γ) and its offset in that plane's flat index. */
    private final int[] tapPhase;

    private final int[] tapOffset;
    /** Which phase planes some tap reads. */
    private final boolean[] phaseUsed;

    ConvPanel(ConvGeometry g, int ih, int iw) {
        this.g = g;
        this.ih = ih;
        this.iw = iw;
        this.identity = g.kh() == 1
                && g.kw() == 1
                && g.sh() == 1
                && g.sw() == 1
                && g.padTop() == 0
                && g.padLeft() == 0
                && g.oh() == ih
                && g.ow() == iw;
        this.width = identity ? g.ow() : g.ow() + (g.kw() - 1) * g.dw() / g.sw();
        this.extraRows = identity ? 0 : (g.kh() - 1) * g.dh() / g.sh();
        this.taps = g.kh() * g.kw();
        this.tapPhase = new int[taps];
        this.tapOffset = new int[taps];
        this.phaseUsed = new boolean[g.sh() * g.sw()];
        for (int ky = 0; ky < g.kh(); ky++) {
            for (int kx = 0; kx < g.kw(); kx++) {
                int k = ky * g.kw() + kx;
                int dy = ky * g.dh();
                int dx = kx * g.dw();
                tapPhase[k] = (dy % g.sh()) * g.sw() + dx % g.sw();
                tapOffset[k] = (dy / g.sh()) * width + dx / g.sw();
                phaseUsed[tapPhase[k]] = true;
            }
        }
    }

    /** Columns per output row in the flat layout (at least the output width). */
    int width() {
        return width;
    }

    /** Ints of each phase plane {@link #gather} needs for a band of {@code bandRows} output rows. */
    int phaseInts(int bandRows) {
        return (bandRows + extraRows + 1) * width;
    }

    /** Phase planes per channel. */
    int phases() {
        return phaseUsed.length;
    }

    /**
     * Fills {@code rows[0 .. channels*kh*kw)} at flat indices {@code [0, (r1 - r0) * width)} for
     * output rows {@code [r0, r1)}.
     *
     * @param x      input codes, NCHW
     * @param pad    the code padding reads
     * @param plane0 index in x of the first input plane of the group in the sample
     * @param phase  scratch: {@link #phases} arrays of at least {@link #phaseInts} ints
     */
    void gather(int[] x, int pad, int plane0, int channels, int r0, int r1, int[][] rows, int[][] phase) {
        int len = (r1 - r0) * width;
        int planeSize = ih * iw;
        if (identity) {
            for (int c = 0; c < channels; c++) {
                System.arraycopy(x, plane0 + c * planeSize + r0 * width, rows[c], 0, len);
            }
            return;
        }
        for (int c = 0; c < channels; c++) {
            phases(x, pad, plane0 + c * planeSize, r0, r1, phase);
            for (int k = 0; k < taps; k++) {
                System.arraycopy(phase[tapPhase[k]], tapOffset[k], rows[c * taps + k], 0, len);
            }
        }
    }

    /**
     * Fills the phase planes of one input channel (the plane at {@code plane} in x) for output rows
     * {@code [r0, r1)}: tap k of output flat index t reads {@code phase[tapPhases()[k]][tapOffsets()[k] + t]}.
     * Not for {@link #isIdentity} panels, which read the input plane as it is.
     */
    void phases(int[] x, int pad, int plane, int r0, int r1, int[][] phase) {
        for (int ph = 0; ph < phaseUsed.length; ph++) {
            if (phaseUsed[ph]) {
                buildPhase(x, pad, plane, ph / g.sw(), ph % g.sw(), r0, r1 - r0 + extraRows, phase[ph]);
            }
        }
    }

    /** Whether the rows are the input planes themselves (a 1x1 kernel at unit stride, no padding). */
    boolean isIdentity() {
        return identity;
    }

    /** Per tap k ({@code ky * kw + kx}), the phase plane it reads; not to be modified. */
    int[] tapPhases() {
        return tapPhase;
    }

    /** Per tap k, where in its phase plane's flat index it reads output pixel 0; not to be modified. */
    int[] tapOffsets() {
        return tapOffset;
    }

    /**
     * {@code dst[i * width + j] = padded[(r0 + i) * sh + rho][j * sw + gamma]} for {@code i < n}, and
     * padding in one more row (what the last row's don't-care columns read past the plane).
     */
    private void buildPhase(int[] x, int pad, int plane, int rho, int gamma, int r0, int n, int[] dst) {
        int sw = g.sw();
        int xOff = gamma - g.padLeft();
        // Phase columns whose input column xOff + j*sw lies in [0, iw).
        int jFirst = xOff >= 0 ? 0 : Math.min(width, (-xOff + sw - 1) / sw);
        int jEnd = iw - 1 - xOff < 0 ? 0 : Math.min(width, (iw - 1 - xOff) / sw + 1);
        jEnd = Math.max(jEnd, jFirst);
        for (int i = 0; i < n; i++) {
            int out = i * width;
            int yy = (r0 + i) * g.sh() + rho - g.padTop();
            if (yy < 0 || yy >= ih) {
                java.util.Arrays.fill(dst, out, out + width, pad);
                continue;
            }
            for (int j = 0; j < jFirst; j++) {
                dst[out + j] = pad;
            }
            int src = plane + yy * iw + xOff;
            if (sw == 1) {
                System.arraycopy(x, src + jFirst, dst, out + jFirst, jEnd - jFirst);
            } else {
                for (int j = jFirst; j < jEnd; j++) {
                    dst[out + j] = x[src + j * sw];
                }
            }
            for (int j = jEnd; j < width; j++) {
                dst[out + j] = pad;
            }
        }
        java.util.Arrays.fill(dst, n * width, (n + 1) * width, pad);
    }
}
