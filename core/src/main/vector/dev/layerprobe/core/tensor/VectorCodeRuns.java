package dev.layerprobe.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link CodeRuns} on the Vector API, on the float32-only route that class describes (exact for
 * codes and zero points of at most 16 bits); other runs, and the tail of a run shorter than a
 * vector, go through the scalar loops. Rounding half to even is done by adding and subtracting
 * 1.5 * 2^23: after the addition the sum's bits hold the integer in their low mantissa bits, so
 * the code is read from the bits rather than converted (Java 17 compiles that float-to-int
 * conversion to scalar code). Compiled on its own (it needs {@code --add-modules
 * jdk.incubator.vector}) and loaded by {@link CodeRuns#vector} only when the JVM has the module.
 * Stateless.
 */
final class VectorCodeRuns extends CodeRuns {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** 1.5 * 2^23: adding it rounds |v| <= 2^22 to an integer, half to even. */
    private static final float ROUND = 12582912f;

    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    /** Bound of codes and zero points the float32 route is exact for. */
    private static final long SMALL = 1 << 16;

    @Override
    void quantize(
            float[] x, int xOff, int n, float scale, long zeroPoint, long qmin, long qmax, int[] out, int outOff) {
        int vecEnd = n / L * L;
        if (vecEnd == 0 || !small(qmin) || !small(qmax) || !small(zeroPoint) || qmin > 0 || qmax < 0) {
            super.quantize(x, xOff, n, scale, zeroPoint, qmin, qmax, out, outOff);
            return;
        }
        float lo = qmin - zeroPoint;
        float hi = qmax - zeroPoint;
        // NaN must come out as code 0: the quotient -zeroPoint rounds to exactly that.
        float nanQuotient = -zeroPoint;
        int zp = (int) zeroPoint;
        for (int i = 0; i < vecEnd; i += L) {
            FloatVector q = FloatVector.fromArray(F, x, xOff + i).div(scale);
            VectorMask<Float> nan = q.compare(VectorOperators.NE, q);
            q = q.blend(nanQuotient, nan).max(lo).min(hi).add(ROUND);
            q.reinterpretAsInts().sub(ROUND_BITS - zp).intoArray(out, outOff + i);
        }
        super.quantize(x, xOff + vecEnd, n - vecEnd, scale, zeroPoint, qmin, qmax, out, outOff + vecEnd);
    }

    @Override
    void dequantize(int[] codes, int from, int n, float scale, long zeroPoint, float[] out, int to) {
        int vecEnd = n / L * L;
        if (vecEnd == 0 || !small(zeroPoint)) {
            super.dequantize(codes, from, n, scale, zeroPoint, out, to);
            return;
        }
        int zp = (int) zeroPoint;
        // The codes' range is checked in the same pass; a run with a code beyond 16 bits (never
        // one of int8 or int16 codes) is done again by the scalar loop.
        IntVector min = IntVector.zero(I);
        IntVector max = min;
        for (int i = 0; i < vecEnd; i += L) {
            IntVector c = IntVector.fromArray(I, codes, from + i);
            min = min.min(c);
            max = max.max(c);
            ((FloatVector) c.sub(zp).convertShape(VectorOperators.I2F, F, 0))
                    .mul(scale)
                    .intoArray(out, to + i);
        }
        if (min.reduceLanes(VectorOperators.MIN) < -SMALL || max.reduceLanes(VectorOperators.MAX) > SMALL) {
            super.dequantize(codes, from, vecEnd, scale, zeroPoint, out, to);
        }
        super.dequantize(codes, from + vecEnd, n - vecEnd, scale, zeroPoint, out, to + vecEnd);
    }

    private static boolean small(long v) {
        return v >= -SMALL && v <= SMALL;
    }
}
