package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.profile.RequantMode;
import java.util.stream.IntStream;

/**
 * Integer LayerNormalization of the emulated NPU: statistics on codes, one fixed-point inverse
 * square root per row, scale and bias in fixed point, one requantization.
 * <ul>
 *   <li>rows are the H elements from {@code axis} on; {@code u = x - zp_x} (int32);</li>
 *   <li>{@code S1 = Σ u} and {@code S2 = Σ u²} in 64-bit integers, so the centred values and the
 *       variance are exact integers: {@code c = H·u - S1} and
 *       {@code D = H·S2 - S1² + E}, with epsilon in those units {@code E = round(H² · ε / s_x²)}
 *       (then {@code (x - mean) / sqrt(var + ε) = c / sqrt(D)} exactly);</li>
 *   <li>{@code 1 / sqrt(D)} by Newton–Raphson in fixed point: D normalized by an even shift to
 *       {@code d} in [1/4, 1) as Q30, five iterations of {@code y ← y (3 - d y²) / 2} in Q30 from
 *       {@code y0 = 7/3 - 4/3·d} (64-bit products, each rounded to nearest), then shifted back; the
 *       normalized value {@code n = round(c · 2^16 / sqrt(D))} in Q16, rounding half away from zero;</li>
 *   <li>scale γ as int16 codes symmetric per tensor ({@code s_γ = max|γ| / 32767}), bias β in
 *       accumulator units {@code round(β / (2^-16 · s_γ))} (64-bit); {@code acc = n · γ_q + β_q};</li>
 *   <li>{@code y = requant(acc, 2^-16 · s_γ / s_y) + zp_y} clamped to the output type
 *       ({@link Requantizer}, Q31 mantissa and shift, round half away from zero).</li>
 * </ul>
 * Against a float LayerNormalization of the dequantized input, quantized afterwards, it differs
 * by at most one code on the element (measured on random rows, {@code QLayerNormTest}). A row of
 * equal values with ε = 0 gives {@code n = 0}, i.e. β. Immutable; rows run in parallel.
 */
public final class QLayerNorm {
    static final int NORM_BITS = 16;
    private static final int Q30 = 30;
    private static final long ONE = 1L << Q30;

    private final long axis;
    private final double epsilon;
    private final int[] gamma;
    private final long[] beta;
    private final QuantParams in;
    private final QuantParams out;
    private final Requantizer requant;

    /**
     * @param scale H float values of γ, in the order of the normalized elements, or one for all
     * @param bias  as many float values of β as of γ, or null
     * @param axis  the first normalized dimension, negative from the end
     */
    public QLayerNorm(
            float[] scale, float[] bias, long axis, float epsilon, QuantParams in, QuantParams out, RequantMode mode) {
        this.axis = axis;
        this.epsilon = epsilon;
        this.in = in;
        this.out = out;
        float max = 0f;
        for (float v : scale) {
            max = Math.max(max, Math.abs(v));
        }
        double sg = max > 0 ? max / 32767.0 : 1.0;
        this.gamma = new int[scale.length];
        for (int i = 0; i < scale.length; i++) {
            gamma[i] = (int) Math.max(-32767, Math.min(32767, Math.round(scale[i] / sg)));
        }
        double accScale = Math.scalb(sg, -NORM_BITS);
        this.beta = new long[scale.length];
        if (bias != null) {
            if (bias.length != scale.length) {
                throw new IllegalArgumentException(
                        "LayerNormalization scale and bias sizes differ: " + scale.length + " and " + bias.length);
            }
            for (int i = 0; i < bias.length; i++) {
                beta[i] = Math.round(bias[i] / accScale);
            }
        }
        this.requant = new Requantizer(accScale / out.scale(0), mode);
    }

    public QTensor run(QTensor x) {
        int[] shape = x.shape();
        int a = (int) (axis < 0 ? axis + shape.length : axis);
        if (a < 0 || a >= shape.length) {
            throw new IllegalArgumentException("axis " + axis + " out of range for rank " + shape.length);
        }
        int h = 1;
        for (int i = a; i < shape.length; i++) {
            h *= shape[i];
        }
        if (gamma.length != h && gamma.length != 1) {
            throw new IllegalArgumentException(
                    "scale must have " + h + " values (the normalized elements) or one, got " + gamma.length);
        }
        boolean one = gamma.length == 1;
        int norm = h;
        int rows = h == 0 ? 0 : x.size() / h;
        long zx = in.zeroPoint(0);
        double sx = in.scale(0);
        long eps = Math.round((double) h * h * epsilon / (sx * sx));
        int[] codes = x.codes();
        int[] y = new int[codes.length];
        long zy = out.zeroPoint(0);
        long lo = out.qmin();
        long hi = out.qmax();
        IntStream.range(0, rows).parallel().forEach(r -> {
            int base = r * norm;
            long s1 = 0;
            long s2 = 0;
            for (int i = 0; i < norm; i++) {
                long u = codes[base + i] - zx;
                s1 += u;
                s2 += u * u;
            }
            long d = Math.addExact(Math.subtractExact(Math.multiplyExact(norm, s2), Math.multiplyExact(s1, s1)), eps);
            InvSqrt inv = invSqrt(d);
            for (int i = 0; i < norm; i++) {
                long c = norm * (codes[base + i] - zx) - s1;
                long n = inv == null ? 0 : mulShiftRound(c, inv.mantissa, inv.shift);
                long acc = n * gamma[one ? 0 : i] + beta[one ? 0 : i];
                y[base + i] = requant.apply(acc, zy, lo, hi);
            }
        });
        return new QTensor(shape, y, out);
    }

    /** {@code 1 / sqrt(D) = mantissa * 2^-(shift + NORM_BITS)}: {@code n = c * mantissa >> shift} is Q16. */
    record InvSqrt(long mantissa, int shift) {}

    /** The fixed-point inverse square root of D > 0 (see the class comment); null for D <= 0. */
    static InvSqrt invSqrt(long d) {
        if (d <= 0) {
            return null;
        }
        // dn = D >> 2e (or <<), in [2^28, 2^30): d = dn / 2^30 in [1/4, 1).
        int bits = 64 - Long.numberOfLeadingZeros(d); // D in [2^(bits-1), 2^bits)
        int e = bits - Q30;
        if ((e & 1) != 0) {
            e++;
        }
        long dn = e >= 0 ? shiftRound(d, e) : d << -e;
        e /= 2;
        // y0 = 7/3 - 4/3 d, Q30
        long y = (7 * ONE - 4 * dn) / 3;
        for (int it = 0; it < 5; it++) {
            long y2 = shiftRound(y * y, Q30);
            long t = shiftRound(dn * y2, Q30);
            y = shiftRound(y * (3 * ONE - t), Q30 + 1);
        }
        // D = d * 2^(30 + 2e), so 1/sqrt(D) = y * 2^-30 * 2^-(15 + e), and
        // n = c * 2^16 / sqrt(D) = c * y >> (45 + e - 16)
        return new InvSqrt(y, Q30 + Q30 / 2 + e - NORM_BITS);
    }

    /** {@code a * b / 2^shift} rounded half away from zero, exact past 64 bits (int16 rows). */
    static long mulShiftRound(long a, long b, int shift) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        if ((hi == 0 && lo >= 0) || (hi == -1 && lo < 0)) {
            return shiftRound(lo, shift);
        }
        java.math.BigInteger p = java.math.BigInteger.valueOf(a).multiply(java.math.BigInteger.valueOf(b));
        java.math.BigInteger half = java.math.BigInteger.ONE.shiftLeft(Math.max(shift, 1) - 1);
        java.math.BigInteger m = p.abs().add(shift > 0 ? half : java.math.BigInteger.ZERO);
        m = shift > 0 ? m.shiftRight(shift) : m.shiftLeft(-shift);
        return (p.signum() < 0 ? m.negate() : m).longValueExact();
    }

    /** {@code v / 2^shift} rounded half away from zero (a left shift for a negative shift). */
    static long shiftRound(long v, int shift) {
        if (shift <= 0) {
            return v << -shift;
        }
        if (shift >= 63) {
            return 0;
        }
        long half = 1L << (shift - 1);
        return v >= 0 ? (v + half) >> shift : -((-v + half) >> shift);
    }
}
