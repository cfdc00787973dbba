package dev.layerprobe.simulator.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatTiles#offsetProduct} for {@link VectorFloatTiles}: the tiles of its register-blocked
 * product (four or one rows by two vectors) with each panel row read in place at {@code
 * src[koff[kk] + t]}, the same numerics. (Not eight rows: in the whole models that tile ran far
 * slower here, as if C2 left its Vector API calls unintrinsified.) Stateless.
 */
final class VectorOffsetTiles {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorOffsetTiles() {}

    /** {@link FloatTiles#offsetProduct} on the Vector API. */
    static void product(
            float[] x,
            int xo,
            int xr,
            int count,
            float[] src,
            int[] koff,
            int kn,
            float[] bias,
            int biasOff,
            boolean clamp,
            float lo,
            float hi,
            float[] c,
            int cBase,
            int cr,
            int from,
            int to) {
        int vecEnd = from + (to - from) / L * L;
        for (int t = from; t < vecEnd; t += 2 * L) {
            boolean two = t + 2 * L <= vecEnd;
            int i = 0;
            for (; i + 4 <= count; i += 4) {
                int cb = cBase + i * cr + t;
                if (two) {
                    offsetFour(
                            x,
                            xo + i * xr,
                            xr,
                            src,
                            koff,
                            kn,
                            t,
                            VectorFloatTiles.start(bias, biasOff + i),
                            VectorFloatTiles.start(bias, biasOff + i + 1),
                            VectorFloatTiles.start(bias, biasOff + i + 2),
                            VectorFloatTiles.start(bias, biasOff + i + 3),
                            c,
                            cb,
                            cr,
                            clamp,
                            lo,
                            hi);
                } else {
                    for (int q = 0; q < 4; q++) {
                        offsetOne(
                                x,
                                xo + (i + q) * xr,
                                src,
                                koff,
                                kn,
                                t,
                                VectorFloatTiles.start(bias, biasOff + i + q),
                                c,
                                cb + q * cr,
                                clamp,
                                lo,
                                hi);
                    }
                }
            }
            for (; i < count; i++) {
                int cb = cBase + i * cr + t;
                offsetOne(
                        x,
                        xo + i * xr,
                        src,
                        koff,
                        kn,
                        t,
                        VectorFloatTiles.start(bias, biasOff + i),
                        c,
                        cb,
                        clamp,
                        lo,
                        hi);
                if (two) {
                    offsetOne(
                            x,
                            xo + i * xr,
                            src,
                            koff,
                            kn,
                            t + L,
                            VectorFloatTiles.start(bias, biasOff + i),
                            c,
                            cb + L,
                            clamp,
                            lo,
                            hi);
                }
            }
        }
        if (vecEnd < to) {
            FloatTiles.scalar()
                    .offsetProduct(
                            x, xo, xr, count, src, koff, kn, bias, biasOff, clamp, lo, hi, c, cBase, cr, vecEnd, to);
        }
    }

    /** Four rows by two vectors at column t of {@link #product}, stored at c[cb + q*cr]. */
    private static void offsetFour(
            float[] x,
            int xi,
            int xr,
            float[] src,
            int[] koff,
            int kn,
            int t,
            float s0,
            float s1,
            float s2,
            float s3,
            float[] c,
            int cb,
            int cr,
            boolean clamp,
            float lo,
            float hi) {
        FloatVector c00 = FloatVector.broadcast(S, s0);
        FloatVector c01 = c00;
        FloatVector c10 = FloatVector.broadcast(S, s1);
        FloatVector c11 = c10;
        FloatVector c20 = FloatVector.broadcast(S, s2);
        FloatVector c21 = c20;
        FloatVector c30 = FloatVector.broadcast(S, s3);
        FloatVector c31 = c30;
        for (int kk = 0; kk < kn; kk++) {
            int q = koff[kk] + t;
            FloatVector b0 = FloatVector.fromArray(S, src, q);
            FloatVector b1 = FloatVector.fromArray(S, src, q + L);
            int j = xi + kk;
            FloatVector v0 = FloatVector.broadcast(S, x[j]);
            FloatVector v1 = FloatVector.broadcast(S, x[j + xr]);
            FloatVector v2 = FloatVector.broadcast(S, x[j + 2 * xr]);
            FloatVector v3 = FloatVector.broadcast(S, x[j + 3 * xr]);
            c00 = c00.add(b0.mul(v0));
            c01 = c01.add(b1.mul(v0));
            c10 = c10.add(b0.mul(v1));
            c11 = c11.add(b1.mul(v1));
            c20 = c20.add(b0.mul(v2));
            c21 = c21.add(b1.mul(v2));
            c30 = c30.add(b0.mul(v3));
            c31 = c31.add(b1.mul(v3));
        }
        if (clamp) {
            c00 = c00.max(lo).min(hi);
            c01 = c01.max(lo).min(hi);
            c10 = c10.max(lo).min(hi);
            c11 = c11.max(lo).min(hi);
            c20 = c20.max(lo).min(hi);
            c21 = c21.max(lo).min(hi);
            c30 = c30.max(lo).min(hi);
            c31 = c31.max(lo).min(hi);
        }
        c00.intoArray(c, cb);
        c01.intoArray(c, cb + L);
        c10.intoArray(c, cb + cr);
        c11.intoArray(c, cb + cr + L);
        c20.intoArray(c, cb + 2 * cr);
        c21.intoArray(c, cb + 2 * cr + L);
        c30.intoArray(c, cb + 3 * cr);
        c31.intoArray(c, cb + 3 * cr + L);
    }

    /** One row by one vector at column t of {@link #product}, stored at c[cb]. */
    private static void offsetOne(
            float[] x,
            int xi,
            float[] src,
            int[] koff,
            int kn,
            int t,
            float s,
            float[] c,
            int cb,
            boolean clamp,
            float lo,
            float hi) {
        FloatVector acc = FloatVector.broadcast(S, s);
        for (int kk = 0; kk < kn; kk++) {
            acc = acc.add(FloatVector.fromArray(S, src, koff[kk] + t).mul(x[xi + kk]));
        }
        if (clamp) {
            acc = acc.max(lo).min(hi);
        }
        acc.intoArray(c, cb);
    }
}
