package dev.layerprobe.host.compare;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link MetricPass} on the Vector API, bit for bit the scalar pass. A step takes eight elements:
 * converts a and b to double, computes the terms ab, a², b², (a−b)², |a−b| (the same IEEE
 * operations as the scalar loop) into a buffer, and keeps the maximum and the allclose count in
 * vector registers. The five chains stay scalar adds in element order; they add the terms of the
 * step {@link #AHEAD} steps back, so the vector work of the next steps overlaps the chains' latency
 * instead of waiting for it (the chains, five adds an element, are what bounds the pass). Leftover
 * elements go through {@link MetricPass#addFrom}. Compiled on its own (it needs {@code
 * --add-modules jdk.incubator.vector}) and loaded by {@link MetricPass#vector} only when the JVM has
 * the module. Stateless.
 */
final class VectorMetricPass extends MetricPass {
    /** Elements a step: the chains are written out for eight, one vector on AVX-512, two on AVX2. */
    private static final int E = 8;

    private static final VectorSpecies<Double> D =
            DoubleVector.SPECIES_PREFERRED.length() > E ? DoubleVector.SPECIES_512 : DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Long> LONGS = VectorSpecies.of(long.class, D.vectorShape());
    private static final VectorSpecies<Float> F =
            VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));
    private static final int L = D.length();
    /** A step's terms: eight of ab, then eight of a², b², (a−b)², |a−b|. */
    private static final int STEP = 5 * E;
    /**
     * How many steps the chains trail the vector work: the buffer holds that many steps' terms. A
     * power of two, so the slot is a mask.
     */
    private static final int AHEAD = 4;

    @Override
    void add(float[] a, int aOff, float[] b, int bOff, int len, double atol, double rtol, Sums s) {
        int steps = len / E;
        if (steps == 0) {
            MetricPass.scalar().add(a, aOff, b, bOff, len, atol, rtol, s);
            return;
        }
        // Made here, not kept between chunks: the compiler then knows its length, and with the
        // slot a masked step every index below is provably in bounds, so the chains' forty loads
        // a step carry no range checks (a few hundred bytes against a chunk of a megabyte).
        // Every chain starts at +0.0 and, rounding to nearest, a sum is -0.0 only when both addends
        // are: so a chain can never be -0.0, and adding +0.0 leaves it as it is. The chains can
        // therefore add the zeroed buffer over the first AHEAD steps, before any term is there,
        // and the loop needs no start of its own.
        double[] t = new double[AHEAD * STEP];
        double ab = 0;
        double aa = 0;
        double bb = 0;
        double dd = 0;
        double abs = 0;
        long cl = 0;
        // |a−b| is never negative, so where none is NaN the order of the doubles is that of their
        // bits as signed longs: the maximum is a long maximum, MIN_VALUE below any of them.
        LongVector vmx = LongVector.broadcast(LONGS, Long.MIN_VALUE);
        DoubleVector vat = DoubleVector.broadcast(D, atol);
        DoubleVector vrt = DoubleVector.broadcast(D, rtol);
        for (int step = 0; step < steps; step++) {
            int o = (step & (AHEAD - 1)) * STEP;
            ab += t[o];
            aa += t[o + 8];
            bb += t[o + 16];
            dd += t[o + 24];
            abs += t[o + 32];
            ab += t[o + 1];
            aa += t[o + 9];
            bb += t[o + 17];
            dd += t[o + 25];
            abs += t[o + 33];
            ab += t[o + 2];
            aa += t[o + 10];
            bb += t[o + 18];
            dd += t[o + 26];
            abs += t[o + 34];
            ab += t[o + 3];
            aa += t[o + 11];
            bb += t[o + 19];
            dd += t[o + 27];
            abs += t[o + 35];
            ab += t[o + 4];
            aa += t[o + 12];
            bb += t[o + 20];
            dd += t[o + 28];
            abs += t[o + 36];
            ab += t[o + 5];
            aa += t[o + 13];
            bb += t[o + 21];
            dd += t[o + 29];
            abs += t[o + 37];
            ab += t[o + 6];
            aa += t[o + 14];
            bb += t[o + 22];
            dd += t[o + 30];
            abs += t[o + 38];
            ab += t[o + 7];
            aa += t[o + 15];
            bb += t[o + 23];
            dd += t[o + 31];
            abs += t[o + 39];
            for (int h = 0; h < E; h += L) {
                int i = step * E + h;
                DoubleVector x =
                        (DoubleVector) FloatVector.fromArray(F, a, aOff + i).convertShape(VectorOperators.F2D, D, 0);
                DoubleVector y =
                        (DoubleVector) FloatVector.fromArray(F, b, bOff + i).convertShape(VectorOperators.F2D, D, 0);
                DoubleVector d = x.sub(y);
                DoubleVector ad = d.abs();
                x.mul(y).intoArray(t, o + h);
                x.mul(x).intoArray(t, o + E + h);
                y.mul(y).intoArray(t, o + 2 * E + h);
                d.mul(d).intoArray(t, o + 3 * E + h);
                ad.intoArray(t, o + 4 * E + h);
                vmx = vmx.max(ad.reinterpretAsLongs());
                cl += ad.compare(VectorOperators.LE, vat.add(vrt.mul(x.abs()))).trueCount();
            }
        }
        for (int step = Math.max(0, steps - AHEAD); step < steps; step++) {
            int o = (step & (AHEAD - 1)) * STEP;
            for (int k = o; k < o + E; k++) {
                ab += t[k];
                aa += t[k + E];
                bb += t[k + 2 * E];
                dd += t[k + 3 * E];
                abs += t[k + 4 * E];
            }
        }
        if (Double.isNaN(dd)) {
            // A NaN difference (the only thing that makes Σ(a−b)² NaN) breaks the long order; the
            // scalar pass gives such a chunk its maximum and everything else.
            MetricPass.scalar().add(a, aOff, b, bOff, len, atol, rtol, s);
            return;
        }
        double m = Double.longBitsToDouble(vmx.reduceLanes(VectorOperators.MAX));
        s.ab = ab;
        s.aa = aa;
        s.bb = bb;
        s.dd = dd;
        s.abs = abs;
        s.max = m > s.max ? m : s.max;
        s.close = cl;
        addFrom(a, aOff, b, bOff, steps * E, len, atol, rtol, s);
    }
}
