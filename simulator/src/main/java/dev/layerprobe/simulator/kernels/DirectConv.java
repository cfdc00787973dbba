package dev.layerprobe.simulator.kernels;

import java.util.Arrays;

/**
 * The convolution loops {@link ConvKernel} runs without im2col, one output plane per call: a
 * pointwise (1x1, stride 1) plane as a tiled matrix product, and a direct tap-by-tap loop where the
 * blocked matrix product does not pay off. Summation order: bias first, then input channels in
 * order, then taps row by row.
 */
final class DirectConv {
    /** Output elements per tile of the 1x1 path: the accumulating tile stays in L1. */
    private static final int TILE = 2048;

    private DirectConv() {}

    /** A 1x1 stride-1 conv is a matrix product; tiling the plane keeps the accumulator in L1. */
    static void pointwisePlane(
            float[] x, int xBase, float[] w, int wBase, int cg, float[] out, int oBase, int plane, float bias) {
        for (int t0 = 0; t0 < plane; t0 += TILE) {
            int t1 = Math.min(plane, t0 + TILE);
            Arrays.fill(out, oBase + t0, oBase + t1, bias);
            for (int ci = 0; ci < cg; ci++) {
                float wv = w[wBase + ci];
                int xo = xBase + ci * plane - oBase;
                for (int j = oBase + t0; j < oBase + t1; j++) {
                    out[j] += wv * x[xo + j];
                }
            }
        }
    }

    /** One output plane of a grouped conv, tap by tap over the valid output columns (no im2col). */
    static void plane(
            float[] x,
            int xBase,
            float[] w,
            int wBase,
            int cg,
            float[] out,
            int oBase,
            float bias,
            ConvKernel.Dim dh,
            ConvKernel.Dim dw) {
        int ow = dw.out();
        int inPlane = dh.in() * dw.in();
        Arrays.fill(out, oBase, oBase + dh.out() * ow, bias);
        // Valid output-column range per kernel column: outside it the tap reads padding.
        int[] lo = new int[dw.k()];
        int[] hi = new int[dw.k()];
        for (int kw = 0; kw < dw.k(); kw++) {
            int off = kw * dw.dilation() - dw.padBegin();
            lo[kw] = Math.max(0, -Math.floorDiv(off, dw.stride()));
            hi[kw] = Math.min(ow, -Math.floorDiv(-(dw.in() - off), dw.stride()));
        }
        int sw = dw.stride();
        for (int ci = 0; ci < cg; ci++) {
            int xc = xBase + ci * inPlane;
            int wc = wBase + ci * dh.k() * dw.k();
            for (int oh = 0; oh < dh.out(); oh++) {
                int oRow = oBase + oh * ow;
                for (int kh = 0; kh < dh.k(); kh++) {
                    int ih = oh * dh.stride() - dh.padBegin() + kh * dh.dilation();
                    if (ih < 0 || ih >= dh.in()) {
                        continue;
                    }
                    int xRow = xc + ih * dw.in();
                    for (int kw = 0; kw < dw.k(); kw++) {
                        float wv = w[wc + kh * dw.k() + kw];
                        int xo = xRow + kw * dw.dilation() - dw.padBegin();
                        int a = lo[kw];
                        int e = hi[kw];
                        if (sw == 1) {
                            int d = xo - oRow;
                            for (int j = oRow + a; j < oRow + e; j++) {
                                out[j] += wv * x[d + j];
                            }
                        } else {
                            for (int o = a; o < e; o++) {
                                out[oRow + o] += wv * x[xo + o * sw];
                            }
                        }
                    }
                }
            }
        }
    }
}
