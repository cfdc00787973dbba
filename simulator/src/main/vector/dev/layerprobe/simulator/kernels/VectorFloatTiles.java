package dev.layerprobe.simulator.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatTiles} on the Vector API, bit for bit the scalar sums: every element is updated as
 * {@code acc = acc + x*y} (a multiply, then an add, never fused) with k ascending. A tile is four C
 * rows by two vectors of columns; its eight sums stay in registers over the whole depth, each step
 * loading two vectors of the panel row and broadcasting four values of x, and are stored once.
 * Column tiles are the outer loop, so a tile's columns of the panel stay in cache while every block
 * of rows reads them. Leftover rows go one at a time, leftover columns (fewer than a vector) through
 * {@link SgemmLoops}. Compiled on its own (it needs {@code --add-modules jdk.incubator.vector}) and
 * loaded by {@link FloatTiles#vector} only when the JVM has the module. Stateless.
 */
final class VectorFloatTiles extends FloatTiles {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    @Override
    void accumulate(
            float[] x,
            int xo,
            int xr,
            int xk,
            int count,
            float[][] panel,
            int p0,
            int kn,
            float[][] acc,
            int a0,
            int lo,
            int hi) {
        int vecEnd = lo + (hi - lo) / L * L;
        for (int t = lo; t < vecEnd; t += 2 * L) {
            boolean two = t + 2 * L <= vecEnd;
            int i = 0;
            for (; i + 4 <= count; i += 4) {
                int xi = xo + i * xr;
                if (two) {
                    four2(
                            x,
                            xi,
                            xr,
                            xk,
                            panel,
                            p0,
                            kn,
                            t,
                            acc[a0 + i],
                            acc[a0 + i + 1],
                            acc[a0 + i + 2],
                            acc[a0 + i + 3]);
                } else {
                    four1(
                            x,
                            xi,
                            xr,
                            xk,
                            panel,
                            p0,
                            kn,
                            t,
                            acc[a0 + i],
                            acc[a0 + i + 1],
                            acc[a0 + i + 2],
                            acc[a0 + i + 3]);
                }
            }
            for (; i < count; i++) {
                one(x, xo + i * xr, xk, panel, p0, kn, t, two, acc[a0 + i]);
            }
        }
        if (vecEnd < hi) {
            for (int i = 0; i < count; i++) {
                SgemmLoops.accumulate(acc[a0 + i], panel, p0, kn, x, xo + i * xr, xk, vecEnd, hi);
            }
        }
    }

    @Override
    boolean blocked() {
        return true;
    }

    private static void four2(
            float[] x,
            int xi,
            int xr,
            int xk,
            float[][] panel,
            int p0,
            int kn,
            int t,
            float[] r0,
            float[] r1,
            float[] r2,
            float[] r3) {
        FloatVector c00 = FloatVector.fromArray(S, r0, t);
        FloatVector c01 = FloatVector.fromArray(S, r0, t + L);
        FloatVector c10 = FloatVector.fromArray(S, r1, t);
        FloatVector c11 = FloatVector.fromArray(S, r1, t + L);
        FloatVector c20 = FloatVector.fromArray(S, r2, t);
        FloatVector c21 = FloatVector.fromArray(S, r2, t + L);
        FloatVector c30 = FloatVector.fromArray(S, r3, t);
        FloatVector c31 = FloatVector.fromArray(S, r3, t + L);
        for (int kk = 0; kk < kn; kk++) {
            float[] q = panel[p0 + kk];
            FloatVector b0 = FloatVector.fromArray(S, q, t);
            FloatVector b1 = FloatVector.fromArray(S, q, t + L);
            int j = xi + kk * xk;
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
        c00.intoArray(r0, t);
        c01.intoArray(r0, t + L);
        c10.intoArray(r1, t);
        c11.intoArray(r1, t + L);
        c20.intoArray(r2, t);
        c21.intoArray(r2, t + L);
        c30.intoArray(r3, t);
        c31.intoArray(r3, t + L);
    }

    private static void four1(
            float[] x,
            int xi,
            int xr,
            int xk,
            float[][] panel,
            int p0,
            int kn,
            int t,
            float[] r0,
            float[] r1,
            float[] r2,
            float[] r3) {
        FloatVector c0 = FloatVector.fromArray(S, r0, t);
        FloatVector c1 = FloatVector.fromArray(S, r1, t);
        FloatVector c2 = FloatVector.fromArray(S, r2, t);
        FloatVector c3 = FloatVector.fromArray(S, r3, t);
        for (int kk = 0; kk < kn; kk++) {
            FloatVector b = FloatVector.fromArray(S, panel[p0 + kk], t);
            int j = xi + kk * xk;
            c0 = c0.add(b.mul(x[j]));
            c1 = c1.add(b.mul(x[j + xr]));
            c2 = c2.add(b.mul(x[j + 2 * xr]));
            c3 = c3.add(b.mul(x[j + 3 * xr]));
        }
        c0.intoArray(r0, t);
        c1.intoArray(r1, t);
        c2.intoArray(r2, t);
        c3.intoArray(r3, t);
    }

    private static void one(float[] x, int xi, int xk, float[][] panel, int p0, int kn, int t, boolean two, float[] r) {
        FloatVector c0 = FloatVector.fromArray(S, r, t);
        if (two) {
            FloatVector c1 = FloatVector.fromArray(S, r, t + L);
            for (int kk = 0; kk < kn; kk++) {
                float[] q = panel[p0 + kk];
                float v = x[xi + kk * xk];
                c0 = c0.add(FloatVector.fromArray(S, q, t).mul(v));
                c1 = c1.add(FloatVector.fromArray(S, q, t + L).mul(v));
            }
            c1.intoArray(r, t + L);
        } else {
            for (int kk = 0; kk < kn; kk++) {
                c0 = c0.add(FloatVector.fromArray(S, panel[p0 + kk], t).mul(x[xi + kk * xk]));
            }
        }
        c0.intoArray(r, t);
    }
}
