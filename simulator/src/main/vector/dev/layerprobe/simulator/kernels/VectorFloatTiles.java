package dev.layerprobe.simulator.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatTiles} on the Vector API, bit for bit the scalar sums: every element is updated as
 * {@code acc = acc + x*y} (a multiply, then an add, never fused) with k ascending, and clamped as
 * {@code min(max(v, lo), hi)} (the Vector API's max and min are Math's, NaN and signed zeros
 * included). A tile is eight ({@link VectorEightTiles}), four or one C rows by two vectors of
 * columns; its sums start from the accumulator rows or from the rows' biases, stay in registers
 * over the whole depth, each step loading two vectors of the panel row and broadcasting a value of
 * x per row, and are stored once. The offset form of the panel is {@link VectorOffsetTiles}', the
 * depthwise taps {@link VectorTapTiles}'.
 * Column tiles are the outer loop, so a tile's columns of the panel stay in cache while every block
 * of rows reads them. Leftover rows go one at a time, leftover columns (fewer than a vector) through
 * the scalar form. Compiled on its own (it needs {@code --add-modules jdk.incubator.vector}) and
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
            if (two) {
                for (; i + 8 <= count; i += 8) {
                    VectorEightTiles.eight(
                            x, xo + i * xr, xr, xk, panel, p0, kn, t, null, 0, acc, a0 + i, null, 0, 0, false, 0, 0);
                }
            }
            for (; i + 4 <= count; i += 4) {
                float[] r0 = acc[a0 + i];
                float[] r1 = acc[a0 + i + 1];
                float[] r2 = acc[a0 + i + 2];
                float[] r3 = acc[a0 + i + 3];
                four(
                        x,
                        xo + i * xr,
                        xr,
                        xk,
                        panel,
                        p0,
                        kn,
                        t,
                        two,
                        true,
                        0,
                        0,
                        0,
                        0,
                        r0,
                        r1,
                        r2,
                        r3,
                        0,
                        0,
                        0,
                        0,
                        false,
                        0,
                        0);
            }
            for (; i < count; i++) {
                one(x, xo + i * xr, xk, panel, p0, kn, t, two, true, 0, acc[a0 + i], 0, false, 0, 0);
            }
        }
        if (vecEnd < hi) {
            FloatTiles.scalar().accumulate(x, xo, xr, xk, count, panel, p0, kn, acc, a0, vecEnd, hi);
        }
    }

    @Override
    void biasProduct(
            float[] x,
            int xo,
            int xr,
            int xk,
            int count,
            float[][] panel,
            int p0,
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
            biasColumns(
                    x,
                    xo,
                    xr,
                    xk,
                    count,
                    panel,
                    p0,
                    kn,
                    bias,
                    biasOff,
                    clamp,
                    lo,
                    hi,
                    c,
                    cBase,
                    cr,
                    t,
                    t + 2 * L <= vecEnd);
        }
        if (vecEnd < to && to - from >= L) {
            // The last columns (fewer than a vector) as the vector ending at the last column: the
            // columns it computes again get the same values, each stored sum independent of C.
            biasColumns(x, xo, xr, xk, count, panel, p0, kn, bias, biasOff, clamp, lo, hi, c, cBase, cr, to - L, false);
        } else if (vecEnd < to) {
            FloatTiles.scalar()
                    .biasProduct(
                            x, xo, xr, xk, count, panel, p0, kn, bias, biasOff, clamp, lo, hi, c, cBase, cr, vecEnd,
                            to);
        }
    }

    /** The rows of {@link #biasProduct} at one or two vectors of columns from t. */
    private static void biasColumns(
            float[] x,
            int xo,
            int xr,
            int xk,
            int count,
            float[][] panel,
            int p0,
            int kn,
            float[] bias,
            int biasOff,
            boolean clamp,
            float lo,
            float hi,
            float[] c,
            int cBase,
            int cr,
            int t,
            boolean two) {
        int i = 0;
        if (two) {
            for (; i + 8 <= count; i += 8) {
                VectorEightTiles.eight(
                        x,
                        xo + i * xr,
                        xr,
                        xk,
                        panel,
                        p0,
                        kn,
                        t,
                        bias,
                        biasOff + i,
                        null,
                        0,
                        c,
                        cBase + i * cr + t,
                        cr,
                        clamp,
                        lo,
                        hi);
            }
        }
        for (; i + 4 <= count; i += 4) {
            int cb = cBase + i * cr;
            four(
                    x,
                    xo + i * xr,
                    xr,
                    xk,
                    panel,
                    p0,
                    kn,
                    t,
                    two,
                    false,
                    start(bias, biasOff + i),
                    start(bias, biasOff + i + 1),
                    start(bias, biasOff + i + 2),
                    start(bias, biasOff + i + 3),
                    c,
                    c,
                    c,
                    c,
                    cb,
                    cb + cr,
                    cb + 2 * cr,
                    cb + 3 * cr,
                    clamp,
                    lo,
                    hi);
        }
        for (; i < count; i++) {
            one(
                    x,
                    xo + i * xr,
                    xk,
                    panel,
                    p0,
                    kn,
                    t,
                    two,
                    false,
                    start(bias, biasOff + i),
                    c,
                    cBase + i * cr,
                    clamp,
                    lo,
                    hi);
        }
    }

    @Override
    void offsetProduct(
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
        VectorOffsetTiles.product(
                x, xo, xr, count, src, koff, kn, bias, biasOff, clamp, lo, hi, c, cBase, cr, from, to);
    }

    @Override
    void taps(
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
        VectorTapTiles.taps(src, koff, kn, w, wb, bias, clamp, lo, hi, o, from, to);
    }

    @Override
    void taps9(
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
        VectorTapTiles.taps9(tap, w, wb, bias, j0, j1, clamp, lo, hi, o);
    }

    @Override
    void deinterleave(float[] x, int xo, float[] even, int e, float[] odd, int od, int n) {
        VectorTapTiles.deinterleave(x, xo, even, e, odd, od, n);
    }

    @Override
    void evens(float[] x, int xo, float[] dst, int d, int n) {
        VectorTapTiles.evens(x, xo, dst, d, n);
    }

    @Override
    boolean blocked() {
        return true;
    }

    static float start(float[] bias, int i) {
        return bias == null ? 0f : bias[i];
    }

    /**
     * Four rows by one or two vectors at column t: sums start from rows rN at t (when load) or from
     * sN, and go to rows oN at oN offset + t.
     */
    private static void four(
            float[] x,
            int xi,
            int xr,
            int xk,
            float[][] panel,
            int p0,
            int kn,
            int t,
            boolean two,
            boolean load,
            float s0,
            float s1,
            float s2,
            float s3,
            float[] r0,
            float[] r1,
            float[] r2,
            float[] r3,
            int o0,
            int o1,
            int o2,
            int o3,
            boolean clamp,
            float lo,
            float hi) {
        if (!two) {
            four1(x, xi, xr, xk, panel, p0, kn, t, load, s0, s1, s2, s3, r0, r1, r2, r3, o0, o1, o2, o3, clamp, lo, hi);
            return;
        }
        FloatVector c00;
        FloatVector c01;
        FloatVector c10;
        FloatVector c11;
        FloatVector c20;
        FloatVector c21;
        FloatVector c30;
        FloatVector c31;
        if (load) {
            c00 = FloatVector.fromArray(S, r0, o0 + t);
            c01 = FloatVector.fromArray(S, r0, o0 + t + L);
            c10 = FloatVector.fromArray(S, r1, o1 + t);
            c11 = FloatVector.fromArray(S, r1, o1 + t + L);
            c20 = FloatVector.fromArray(S, r2, o2 + t);
            c21 = FloatVector.fromArray(S, r2, o2 + t + L);
            c30 = FloatVector.fromArray(S, r3, o3 + t);
            c31 = FloatVector.fromArray(S, r3, o3 + t + L);
        } else {
            c00 = FloatVector.broadcast(S, s0);
            c01 = c00;
            c10 = FloatVector.broadcast(S, s1);
            c11 = c10;
            c20 = FloatVector.broadcast(S, s2);
            c21 = c20;
            c30 = FloatVector.broadcast(S, s3);
            c31 = c30;
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
        c00.intoArray(r0, o0 + t);
        c01.intoArray(r0, o0 + t + L);
        c10.intoArray(r1, o1 + t);
        c11.intoArray(r1, o1 + t + L);
        c20.intoArray(r2, o2 + t);
        c21.intoArray(r2, o2 + t + L);
        c30.intoArray(r3, o3 + t);
        c31.intoArray(r3, o3 + t + L);
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
            boolean load,
            float s0,
            float s1,
            float s2,
            float s3,
            float[] r0,
            float[] r1,
            float[] r2,
            float[] r3,
            int o0,
            int o1,
            int o2,
            int o3,
            boolean clamp,
            float lo,
            float hi) {
        FloatVector c0 = load ? FloatVector.fromArray(S, r0, o0 + t) : FloatVector.broadcast(S, s0);
        FloatVector c1 = load ? FloatVector.fromArray(S, r1, o1 + t) : FloatVector.broadcast(S, s1);
        FloatVector c2 = load ? FloatVector.fromArray(S, r2, o2 + t) : FloatVector.broadcast(S, s2);
        FloatVector c3 = load ? FloatVector.fromArray(S, r3, o3 + t) : FloatVector.broadcast(S, s3);
        for (int kk = 0; kk < kn; kk++) {
            FloatVector b = FloatVector.fromArray(S, panel[p0 + kk], t);
            int j = xi + kk * xk;
            c0 = c0.add(b.mul(x[j]));
            c1 = c1.add(b.mul(x[j + xr]));
            c2 = c2.add(b.mul(x[j + 2 * xr]));
            c3 = c3.add(b.mul(x[j + 3 * xr]));
        }
        if (clamp) {
            c0 = c0.max(lo).min(hi);
            c1 = c1.max(lo).min(hi);
            c2 = c2.max(lo).min(hi);
            c3 = c3.max(lo).min(hi);
        }
        c0.intoArray(r0, o0 + t);
        c1.intoArray(r1, o1 + t);
        c2.intoArray(r2, o2 + t);
        c3.intoArray(r3, o3 + t);
    }

    /** One row by one or two vectors at column t, as {@link #four}. */
    private static void one(
            float[] x,
            int xi,
            int xk,
            float[][] panel,
            int p0,
            int kn,
            int t,
            boolean two,
            boolean load,
            float s,
            float[] r,
            int o,
            boolean clamp,
            float lo,
            float hi) {
        FloatVector c0 = load ? FloatVector.fromArray(S, r, o + t) : FloatVector.broadcast(S, s);
        if (two) {
            FloatVector c1 = load ? FloatVector.fromArray(S, r, o + t + L) : c0;
            for (int kk = 0; kk < kn; kk++) {
                float[] q = panel[p0 + kk];
                float v = x[xi + kk * xk];
                c0 = c0.add(FloatVector.fromArray(S, q, t).mul(v));
                c1 = c1.add(FloatVector.fromArray(S, q, t + L).mul(v));
            }
            if (clamp) {
                c1 = c1.max(lo).min(hi);
            }
            c1.intoArray(r, o + t + L);
        } else {
            for (int kk = 0; kk < kn; kk++) {
                c0 = c0.add(FloatVector.fromArray(S, panel[p0 + kk], t).mul(x[xi + kk * xk]));
            }
        }
        if (clamp) {
            c0 = c0.max(lo).min(hi);
        }
        c0.intoArray(r, o + t);
    }
}
