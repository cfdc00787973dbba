package dev.layerprobe.simulator.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The depthwise loops of {@link VectorFloatTiles}. {@link FloatTiles#taps}: four vectors of grid
 * positions at a time, each sum {@code acc = acc + w*src} (never fused) over the taps in order, so
 * four independent chains hide the adds' latency; then one vector at a time, then the scalar form
 * for the last positions. {@link FloatTiles#taps9}: the nine tap arrays of {@link
 * Depthwise3x3#flat} in one pass. {@link FloatTiles#deinterleave} and {@link FloatTiles#evens}: the
 * even and odd lanes of two vectors permuted into one and blended. Stateless.
 */
final class VectorTapTiles {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Lane i takes lane 2i (mod L), or 2i + 1: the even or odd lanes of a vector, twice over. */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(S, i -> (2 * i) % L);

    private static final VectorShuffle<Float> ODD = VectorShuffle.fromOp(S, i -> (2 * i + 1) % L);
    /** The upper half of the lanes. */
    private static final VectorMask<Float> HIGH = VectorMask.fromLong(S, -1L << (L / 2));

    private VectorTapTiles() {}

    /** {@link FloatTiles#taps} on the Vector API. */
    static void taps(
            float[] src,
            int[] koff,
            int kn,
            float[] w,
            int wb,
            float bias,
            boolean clamp,
            float lo,
            float hi,
            float[] o,
            int from,
            int to) {
        FloatVector start = FloatVector.broadcast(S, bias);
        int t = from;
        for (; t + 4 * L <= to; t += 4 * L) {
            FloatVector c0 = start;
            FloatVector c1 = start;
            FloatVector c2 = start;
            FloatVector c3 = start;
            for (int kk = 0; kk < kn; kk++) {
                int q = koff[kk] + t;
                FloatVector wv = FloatVector.broadcast(S, w[wb + kk]);
                c0 = c0.add(FloatVector.fromArray(S, src, q).mul(wv));
                c1 = c1.add(FloatVector.fromArray(S, src, q + L).mul(wv));
                c2 = c2.add(FloatVector.fromArray(S, src, q + 2 * L).mul(wv));
                c3 = c3.add(FloatVector.fromArray(S, src, q + 3 * L).mul(wv));
            }
            if (clamp) {
                c0 = c0.max(lo).min(hi);
                c1 = c1.max(lo).min(hi);
                c2 = c2.max(lo).min(hi);
                c3 = c3.max(lo).min(hi);
            }
            c0.intoArray(o, t);
            c1.intoArray(o, t + L);
            c2.intoArray(o, t + 2 * L);
            c3.intoArray(o, t + 3 * L);
        }
        for (; t + L <= to; t += L) {
            FloatVector c0 = start;
            for (int kk = 0; kk < kn; kk++) {
                c0 = c0.add(FloatVector.fromArray(S, src, koff[kk] + t).mul(FloatVector.broadcast(S, w[wb + kk])));
            }
            if (clamp) {
                c0 = c0.max(lo).min(hi);
            }
            c0.intoArray(o, t);
        }
        if (t < to) {
            FloatTiles.scalar().taps(src, koff, kn, w, wb, bias, clamp, lo, hi, o, t, to);
        }
    }

    /**
     * {@link FloatTiles#deinterleave} on the Vector API: two vectors of x give one of even and one
     * of odd columns (each half permuted from one of them, then blended).
     */
    static void deinterleave(float[] x, int xo, float[] even, int e, float[] odd, int od, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector a = FloatVector.fromArray(S, x, xo + 2 * i);
            FloatVector b = FloatVector.fromArray(S, x, xo + 2 * i + L);
            a.rearrange(EVEN).blend(b.rearrange(EVEN), HIGH).intoArray(even, e + i);
            a.rearrange(ODD).blend(b.rearrange(ODD), HIGH).intoArray(odd, od + i);
        }
        if (i < n) {
            FloatTiles.scalar().deinterleave(x, xo + 2 * i, even, e + i, odd, od + i, n - i);
        }
    }

    /** {@link FloatTiles#evens} on the Vector API, as the even half of {@link #deinterleave}. */
    static void evens(float[] x, int xo, float[] dst, int d, int n) {
        int i = 0;
        // Two vectors read x up to xo + 2(i + L) - 1, one past the last even element when i + L == n.
        for (; i + L < n; i += L) {
            FloatVector a = FloatVector.fromArray(S, x, xo + 2 * i);
            FloatVector b = FloatVector.fromArray(S, x, xo + 2 * i + L);
            a.rearrange(EVEN).blend(b.rearrange(EVEN), HIGH).intoArray(dst, d + i);
        }
        if (i < n) {
            FloatTiles.scalar().evens(x, xo + 2 * i, dst, d + i, n - i);
        }
    }

    /** {@link FloatTiles#taps9} on the Vector API: the nine taps in one pass. */
    static void taps9(
            float[][] tap,
            float[] w,
            int wb,
            float bias,
            int j0,
            int j1,
            boolean clamp,
            float lo,
            float hi,
            float[] o) {
        float[] a0 = tap[0];
        float[] a1 = tap[1];
        float[] a2 = tap[2];
        float[] a3 = tap[3];
        float[] a4 = tap[4];
        float[] a5 = tap[5];
        float[] a6 = tap[6];
        float[] a7 = tap[7];
        float[] a8 = tap[8];
        float w0 = w[wb];
        float w1 = w[wb + 1];
        float w2 = w[wb + 2];
        float w3 = w[wb + 3];
        float w4 = w[wb + 4];
        float w5 = w[wb + 5];
        float w6 = w[wb + 6];
        float w7 = w[wb + 7];
        float w8 = w[wb + 8];
        FloatVector start = FloatVector.broadcast(S, bias);
        int end = j0 + (j1 - j0) / L * L;
        int j = j0;
        for (; j < end; j += L) {
            FloatVector v = start.add(FloatVector.fromArray(S, a0, j).mul(w0))
                    .add(FloatVector.fromArray(S, a1, j).mul(w1))
                    .add(FloatVector.fromArray(S, a2, j).mul(w2))
                    .add(FloatVector.fromArray(S, a3, j).mul(w3))
                    .add(FloatVector.fromArray(S, a4, j).mul(w4))
                    .add(FloatVector.fromArray(S, a5, j).mul(w5))
                    .add(FloatVector.fromArray(S, a6, j).mul(w6))
                    .add(FloatVector.fromArray(S, a7, j).mul(w7))
                    .add(FloatVector.fromArray(S, a8, j).mul(w8));
            if (clamp) {
                v = v.max(lo).min(hi);
            }
            v.intoArray(o, j);
        }
        if (j < j1) {
            FloatTiles.scalar().taps9(tap, w, wb, bias, j, j1, clamp, lo, hi, o);
        }
    }
}
