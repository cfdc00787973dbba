package dev.layerprobe.simulator.kernels.quantized;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FixedRows} on the Vector API, the same codes as its scalar formula. A step takes the
 * preferred int vector at i, widens its lower half to the preferred long vector (the same shape:
 * Java 17 slows every vector kernel down when one int species of another shape shows up, see
 * docs/architecture.md), computes the formula and the clamp in longs, narrows back into the lower
 * half of an int vector and stores it whole: its upper half (zeros) is rewritten by the next step or
 * the scalar tail, or lies past the row (as {@link FixedRows#row} allows). Compiled on its own (it
 * needs {@code --add-modules jdk.incubator.vector}) and loaded by {@link FixedRows#vector} only when
 * the JVM has the module. Stateless.
 */
final class VectorFixedRows extends FixedRows {
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
    /** Elements per step: the long vector's lanes, half the int vector's. */
    private static final int STEP = L.length();

    private static final int INTS = I.length();

    @Override
    void row(int[] acc, int n, long bias, long m, int shift, long zp, long lo, long hi, int[] out) {
        LongVector vb = LongVector.broadcast(L, bias);
        LongVector vm = LongVector.broadcast(L, m);
        LongVector vr = LongVector.broadcast(L, 1L << (shift - 1));
        LongVector vz = LongVector.broadcast(L, zp);
        LongVector vlo = LongVector.broadcast(L, lo);
        LongVector vhi = LongVector.broadcast(L, hi);
        // A step reads and writes a whole int vector from i: up to the arrays' ends, past n.
        int last = Math.min(n - STEP, Math.min(acc.length, out.length) - INTS);
        int i = 0;
        for (; i <= last; i += STEP) {
            LongVector a =
                    ((LongVector) IntVector.fromArray(I, acc, i).convertShape(VectorOperators.I2L, L, 0)).add(vb);
            LongVector y = a.mul(vm)
                    .add(vr)
                    .add(a.lanewise(VectorOperators.ASHR, 63))
                    .lanewise(VectorOperators.ASHR, shift)
                    .add(vz)
                    .max(vlo)
                    .min(vhi);
            ((IntVector) y.convertShape(VectorOperators.L2I, I, 0)).intoArray(out, i);
        }
        tail(acc, i, n, bias, m, shift, zp, lo, hi, out);
    }
}
