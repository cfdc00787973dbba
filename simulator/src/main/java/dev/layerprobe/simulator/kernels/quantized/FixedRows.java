package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.VectorForms;
import java.util.Optional;

/**
 * {@link Requantizer#applyRow}'s fixed-point case in one pass over the row: {@code out[i] =
 * clamp(((a m + 2^(s-1) + (a < 0 ? -1 : 0)) >> s) + zp, lo, hi)} with {@code a = acc[i] + bias}
 * (arithmetic shift), which is {@link Requantizer#scaleRow}'s vector formula followed by the clamp
 * of {@link Requantizer#toCodes}, so the same codes. The caller guarantees what makes that formula
 * exact in 64 bits: {@code 1 <= s <= 62}, {@code (|bias| + 2^31) m + 2^(s-1) < 2^63}, {@code lo <=
 * hi}. Only a Vector API form ({@code VectorFixedRows}, from {@code src/main/vector}): Java 17's C2
 * does not vectorise the int-to-long and long-to-int loops the scalar form needs (two of its four
 * passes, about two thirds of its time), while a vector converts eight lanes in one instruction each
 * way. Without the module, {@link Requantizer} keeps its loops. Stateless.
 */
abstract class FixedRows {
    private static final String VECTOR_CLASS = "dev.layerprobe.simulator.kernels.quantized.VectorFixedRows";
    private static final Optional<FixedRows> VECTOR = VectorForms.load(FixedRows.class, VECTOR_CLASS);
    /** Ints past a row that {@link #row} may overwrite: one int vector of the widest shape (512 bits). */
    static final int SLACK = 16;

    /**
     * The codes of {@code acc[0 .. n)} into {@code out[0 .. n)}, as the class comment says. Where
     * both arrays are longer than the row, up to {@link #SLACK} ints of out past n may be overwritten
     * with zeros (the vector steps run to the row's end instead of leaving a scalar tail).
     */
    abstract void row(int[] acc, int n, long bias, long m, int shift, long zp, long lo, long hi, int[] out);

    /** The Vector API form, when the JVM resolved {@code jdk.incubator.vector}. */
    static Optional<FixedRows> vector() {
        return VECTOR;
    }

    /** {@link #row} element by element for {@code i} in {@code [from, n)}: the vector form's tail. */
    static void tail(int[] acc, int from, int n, long bias, long m, int shift, long zp, long lo, long hi, int[] out) {
        long round = 1L << (shift - 1);
        for (int i = from; i < n; i++) {
            long a = acc[i] + bias;
            long y = ((a * m + round + (a >> 63)) >> shift) + zp;
            out[i] = (int) (y < lo ? lo : y > hi ? hi : y);
        }
    }
}
