package dev.layerprobe.simulator.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link TanhSigmoid}'s formula on the Vector API, bit for bit its scalar form: the same double
 * operations in the same order, one rounding each (never fused), the result rounded once to float.
 * Two steps are written differently with the same result: rint(y) is (y + 1.5*2^52) - 1.5*2^52
 * (exact, ties to even, for |y| < 2^51, and |y| <= 1010 here), and 2^n comes from the low bits of
 * y + 1.5*2^52, which hold n, instead of a conversion to long. A NaN argument gives a NaN (its
 * payload is not kept). Compiled on its own (it needs {@code --add-modules jdk.incubator.vector})
 * and loaded by {@link TanhSigmoid} only when the JVM has the module. Stateless.
 */
final class VectorTanhSigmoid extends TanhSigmoid.Lanes {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats as many as D's lanes, converted to and from D in one step. */
    private static final VectorSpecies<Float> F =
            VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));

    private static final int L = D.length();
    private static final double MAGIC = 6755399441055744.0; // 1.5 * 2^52
    private static final long MAGIC_BITS = Double.doubleToRawLongBits(MAGIC);

    @Override
    int apply(float[] src, int sOff, float[] dst, int dOff, int len, boolean tanh) {
        double scale = tanh ? -2.0 : -1.0;
        double bound = tanh ? 40.0 : 700.0;
        int end = len / L * L;
        for (int i = 0; i < end; i += L) {
            FloatVector xf = FloatVector.fromArray(F, src, sOff + i);
            DoubleVector x = (DoubleVector) xf.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector v = x.mul(scale).max(-bound).min(bound);
            DoubleVector big = v.mul(DoubleExp.LOG2E).add(MAGIC);
            DoubleVector k = big.sub(MAGIC);
            DoubleVector r = v.sub(k.mul(DoubleExp.LN2_HI)).sub(k.mul(DoubleExp.LN2_LO));
            DoubleVector p = DoubleVector.broadcast(D, 1.0 / 6227020800.0);
            p = p.mul(r).add(1.0 / 479001600.0);
            p = p.mul(r).add(1.0 / 39916800.0);
            p = p.mul(r).add(1.0 / 3628800.0);
            p = p.mul(r).add(1.0 / 362880.0);
            p = p.mul(r).add(1.0 / 40320.0);
            p = p.mul(r).add(1.0 / 5040.0);
            p = p.mul(r).add(1.0 / 720.0);
            p = p.mul(r).add(1.0 / 120.0);
            p = p.mul(r).add(1.0 / 24.0);
            p = p.mul(r).add(1.0 / 6.0);
            p = p.mul(r).add(0.5);
            p = p.mul(r).add(1.0);
            DoubleVector m1 = p.mul(r);
            LongVector bits = (LongVector) big.reinterpretAsLongs();
            DoubleVector two = (DoubleVector) bits.add(1023 - MAGIC_BITS)
                    .lanewise(VectorOperators.LSHL, 52)
                    .reinterpretAsDoubles();
            DoubleVector e = two.mul(m1).add(two.sub(1.0));
            DoubleVector y = tanh
                    ? e.neg().div(e.add(2.0))
                    : DoubleVector.broadcast(D, 1.0).div(e.add(2.0));
            FloatVector out = (FloatVector) y.convertShape(VectorOperators.D2F, F, 0);
            if (tanh) {
                // tanh(±0) = ±0 (the formula gives -0 for both).
                VectorMask<Float> zero = xf.compare(VectorOperators.EQ, 0f);
                out = out.blend(xf, zero);
            }
            out.intoArray(dst, dOff + i);
        }
        return end;
    }
}
