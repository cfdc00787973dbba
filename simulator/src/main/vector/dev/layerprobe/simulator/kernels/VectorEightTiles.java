package dev.layerprobe.simulator.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The eight-row tiles of {@link VectorFloatTiles}, with the same
 * numerics: each sum {@code acc = acc + x*y} (never fused), k ascending, clamped once as {@code
 * min(max(v, lo), hi)}. Sixteen sums stay in registers, each panel vector loaded once for eight
 * rows. A tile's method must stay small enough for C2 to inline every Vector API call in it (past
 * its node limit the calls are not intrinsified and run about ten times slower), which is why the
 * clamp is a separate pass over the stored tile. Stateless.
 */
final class VectorEightTiles {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    private VectorEightTiles() {}

    /**
     * Eight rows by two vectors at column t, the product's widest tile: sixteen sums in registers,
     * each panel vector loaded once for eight rows (half the loads per product of four rows). The
     * sums start from acc rows a..a+7 at t (acc not null) or from the biases {@code bias[b + q]}
     * (zeros when null), and go back to those rows or to {@code c[cb + q*cr]}, clamped when
     * {@code clamp} (by {@link #clampRows}).
     */
    static void eight(
            float[] x,
            int xi,
            int xr,
            int xk,
            float[][] panel,
            int p0,
            int kn,
            int t,
            float[] bias,
            int b,
            float[][] acc,
            int a,
            float[] c,
            int cb,
            int cr,
            boolean clamp,
            float lo,
            float hi) {
        FloatVector c00;
        FloatVector c01;
        FloatVector c10;
        FloatVector c11;
        FloatVector c20;
        FloatVector c21;
        FloatVector c30;
        FloatVector c31;
        FloatVector c40;
        FloatVector c41;
        FloatVector c50;
        FloatVector c51;
        FloatVector c60;
        FloatVector c61;
        FloatVector c70;
        FloatVector c71;
        if (acc != null) {
            c00 = FloatVector.fromArray(S, acc[a], t);
            c01 = FloatVector.fromArray(S, acc[a], t + L);
            c10 = FloatVector.fromArray(S, acc[a + 1], t);
            c11 = FloatVector.fromArray(S, acc[a + 1], t + L);
            c20 = FloatVector.fromArray(S, acc[a + 2], t);
            c21 = FloatVector.fromArray(S, acc[a + 2], t + L);
            c30 = FloatVector.fromArray(S, acc[a + 3], t);
            c31 = FloatVector.fromArray(S, acc[a + 3], t + L);
            c40 = FloatVector.fromArray(S, acc[a + 4], t);
            c41 = FloatVector.fromArray(S, acc[a + 4], t + L);
            c50 = FloatVector.fromArray(S, acc[a + 5], t);
            c51 = FloatVector.fromArray(S, acc[a + 5], t + L);
            c60 = FloatVector.fromArray(S, acc[a + 6], t);
            c61 = FloatVector.fromArray(S, acc[a + 6], t + L);
            c70 = FloatVector.fromArray(S, acc[a + 7], t);
            c71 = FloatVector.fromArray(S, acc[a + 7], t + L);
        } else {
            c00 = FloatVector.broadcast(S, VectorFloatTiles.start(bias, b));
            c01 = c00;
            c10 = FloatVector.broadcast(S, VectorFloatTiles.start(bias, b + 1));
            c11 = c10;
            c20 = FloatVector.broadcast(S, VectorFloatTiles.start(bias, b + 2));
            c21 = c20;
            c30 = FloatVector.broadcast(S, VectorFloatTiles.start(bias, b + 3));
            c31 = c30;
            c40 = FloatVector.broadcast(S, VectorFloatTiles.start(bias, b + 4));
            c41 = c40;
            c50 = FloatVector.broadcast(S, VectorFloatTiles.start(bias, b + 5));
            c51 = c50;
            c60 = FloatVector.broadcast(S, VectorFloatTiles.start(bias, b + 6));
            c61 = c60;
            c70 = FloatVector.broadcast(S, VectorFloatTiles.start(bias, b + 7));
            c71 = c70;
        }
        for (int kk = 0; kk < kn; kk++) {
            float[] q = panel[p0 + kk];
            FloatVector b0 = FloatVector.fromArray(S, q, t);
            FloatVector b1 = FloatVector.fromArray(S, q, t + L);
            int j = xi + kk * xk;
            FloatVector v0 = FloatVector.broadcast(S, x[j]);
            FloatVector v1 = FloatVector.broadcast(S, x[j + xr]);
            FloatVector v2 = FloatVector.broadcast(S, x[j + 2 * xr]);
            FloatVector v3 = FloatVector.broadcast(S, x[j + 3 * xr]);
            FloatVector v4 = FloatVector.broadcast(S, x[j + 4 * xr]);
            FloatVector v5 = FloatVector.broadcast(S, x[j + 5 * xr]);
            FloatVector v6 = FloatVector.broadcast(S, x[j + 6 * xr]);
            FloatVector v7 = FloatVector.broadcast(S, x[j + 7 * xr]);
            c00 = c00.add(b0.mul(v0));
            c01 = c01.add(b1.mul(v0));
            c10 = c10.add(b0.mul(v1));
            c11 = c11.add(b1.mul(v1));
            c20 = c20.add(b0.mul(v2));
            c21 = c21.add(b1.mul(v2));
            c30 = c30.add(b0.mul(v3));
            c31 = c31.add(b1.mul(v3));
            c40 = c40.add(b0.mul(v4));
            c41 = c41.add(b1.mul(v4));
            c50 = c50.add(b0.mul(v5));
            c51 = c51.add(b1.mul(v5));
            c60 = c60.add(b0.mul(v6));
            c61 = c61.add(b1.mul(v6));
            c70 = c70.add(b0.mul(v7));
            c71 = c71.add(b1.mul(v7));
        }
        if (acc != null) {
            c00.intoArray(acc[a], t);
            c01.intoArray(acc[a], t + L);
            c10.intoArray(acc[a + 1], t);
            c11.intoArray(acc[a + 1], t + L);
            c20.intoArray(acc[a + 2], t);
            c21.intoArray(acc[a + 2], t + L);
            c30.intoArray(acc[a + 3], t);
            c31.intoArray(acc[a + 3], t + L);
            c40.intoArray(acc[a + 4], t);
            c41.intoArray(acc[a + 4], t + L);
            c50.intoArray(acc[a + 5], t);
            c51.intoArray(acc[a + 5], t + L);
            c60.intoArray(acc[a + 6], t);
            c61.intoArray(acc[a + 6], t + L);
            c70.intoArray(acc[a + 7], t);
            c71.intoArray(acc[a + 7], t + L);
            return;
        }
        c00.intoArray(c, cb);
        c01.intoArray(c, cb + L);
        c10.intoArray(c, cb + cr);
        c11.intoArray(c, cb + cr + L);
        c20.intoArray(c, cb + 2 * cr);
        c21.intoArray(c, cb + 2 * cr + L);
        c30.intoArray(c, cb + 3 * cr);
        c31.intoArray(c, cb + 3 * cr + L);
        c40.intoArray(c, cb + 4 * cr);
        c41.intoArray(c, cb + 4 * cr + L);
        c50.intoArray(c, cb + 5 * cr);
        c51.intoArray(c, cb + 5 * cr + L);
        c60.intoArray(c, cb + 6 * cr);
        c61.intoArray(c, cb + 6 * cr + L);
        c70.intoArray(c, cb + 7 * cr);
        c71.intoArray(c, cb + 7 * cr + L);
        if (clamp) {
            clampRows(c, cb, cr, lo, hi);
        }
    }

    /**
     * The clamp of an {@link #eight} tile, applied to its stored sums: the same values as clamping
     * in registers, kept out of the tile's method, whose size C2 inlines (and so intrinsifies)
     * only up to a limit.
     */
    static void clampRows(float[] c, int cb, int cr, float lo, float hi) {
        for (int q = 0; q < 8; q++) {
            int o = cb + q * cr;
            FloatVector.fromArray(S, c, o).max(lo).min(hi).intoArray(c, o);
            FloatVector.fromArray(S, c, o + L).max(lo).min(hi).intoArray(c, o + L);
        }
    }
}
