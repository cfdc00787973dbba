package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.simulator.profile.RequantMode;

/**
 * Scales an integer accumulator by a real multiplier {@code M} to an output code, the one step
 * where integer NPUs and float references differ. The conventions of the emulated NPU (docs/architecture.md#numerics)
 * live here:
 * <ul>
 *   <li>{@link RequantMode#FIXED}: {@code M = m * 2^-s} with a Q31 mantissa {@code m} in
 *       [2^30, 2^31); {@code y = (acc * m) >> (31 + s)} rounding half away from zero, in 64-bit
 *       integers. What TFLite-style NPUs do.</li>
 *   <li>{@link RequantMode#FLOAT}: {@code y = round_half_to_even((float) acc * (float) M)} in
 *       float32, what ONNX Runtime's QLinear kernels (MLAS) do.</li>
 * </ul>
 * The zero point is added and the result clamped by the caller's {@link #apply}. Immutable.
 */
public final class Requantizer {
    private final RequantMode mode;
    private final float multiplierF;
    private final long mantissa;
    private final int rightShift;
    private final int leftShift;

    public Requantizer(double multiplier, RequantMode mode) {
        this(multiplier, mode, (float) multiplier);
    }

    /**
     * @param multiplierFloat the float32 multiplier as the float reference computes it (ORT forms
     *                        it from float32 scales, e.g. {@code (sx * sw) / sy} in float)
     */
    public Requantizer(double multiplier, RequantMode mode, float multiplierFloat) {
        if (!(multiplier > 0) || Double.isInfinite(multiplier)) {
            throw new IllegalArgumentException(
                    "requantization multiplier must be positive and finite, got " + multiplier);
        }
        this.mode = mode;
        this.multiplierF = multiplierFloat;
        int exp = Math.getExponent(multiplier) + 1; // multiplier = q * 2^exp, q in [0.5, 1)
        double q = multiplier / Math.scalb(1.0, exp);
        long m = Math.round(q * (1L << 31));
        if (m == (1L << 31)) {
            m /= 2;
            exp++;
        }
        this.mantissa = m;
        int total = 31 - exp; // y = acc * m >> total
        this.leftShift = total < 0 ? -total : 0;
        this.rightShift = Math.max(total, 0);
    }

    public RequantMode mode() {
        return mode;
    }

    /** The scaled accumulator, before the zero point: rounded as the mode says. */
    public long scale(long acc) {
        if (mode == RequantMode.FLOAT) {
            return (long) Math.rint((float) acc * multiplierF);
        }
        return fixed(acc, mantissa, rightShift, leftShift);
    }

    /** Scaled, plus zero point, clamped to [lo, hi]. */
    public int apply(long acc, long zeroPoint, long lo, long hi) {
        long y = scale(acc) + zeroPoint;
        return (int) (y < lo ? lo : y > hi ? hi : y);
    }

    /**
     * {@code out[i] = apply(bias + acc[i], zeroPoint, lo, hi)} for {@code i < n}, the accumulator
     * first cast to 16 bits when {@code wrapInt16} (the accumulator_int16_wrap fault): the same
     * codes as {@link #apply}, in array loops the JIT vectorises where the numbers allow, element
     * by element otherwise.
     *
     * <p>The vector form, FIXED mode with a right shift s of at least 32 (every multiplier below
     * 1/2) and {@code |bias| <= 2^30}: then {@code |a| < 1.5 * 2^31} for {@code a = bias + acc}, so
     * {@code a * m + 2^(s-1)} stays inside 64 bits and {@code (a * m + 2^(s-1) + (a < 0 ? -1 : 0)) >> s}
     * (arithmetic shift) is {@link #fixed}'s {@code ±((|a| m + 2^(s-1)) >>> s)}, because
     * {@code -floor(X / 2^s) = floor((2^s - 1 - X) / 2^s)}; that result is at most 1.5 * 2^30 in
     * magnitude, so the zero point and the clamp run on ints (zero point and bounds within ±2^24).
     *
     * @param wide scratch of at least {@code n} longs (overwritten)
     */
    public void applyRow(
            int[] acc, int n, long bias, boolean wrapInt16, long zeroPoint, long lo, long hi, long[] wide, int[] out) {
        long limit = 1L << 24;
        if (mode != RequantMode.FIXED
                || leftShift != 0
                || rightShift < 32
                || rightShift > 62
                || Math.abs(bias) > 1L << 30
                || Math.abs(zeroPoint) > limit
                || Math.abs(lo) > limit
                || Math.abs(hi) > limit) {
            for (int i = 0; i < n; i++) {
                long a = bias + acc[i];
                out[i] = apply(wrapInt16 ? (short) a : a, zeroPoint, lo, hi);
            }
            return;
        }
        // One operation kind per loop: C2 (JDK 17) vectorises int-to-long, long arithmetic and
        // long-to-int loops apart, not a loop mixing them, nor branches or Math.min/max.
        for (int i = 0; i < n; i++) {
            wide[i] = acc[i];
        }
        long b = bias;
        if (wrapInt16) {
            for (int i = 0; i < n; i++) {
                wide[i] = (short) (wide[i] + b);
            }
            b = 0;
        }
        long m = mantissa;
        int right = rightShift;
        long round = 1L << (right - 1);
        for (int i = 0; i < n; i++) {
            long a = wide[i] + b;
            wide[i] = (a * m + round + (a >> 63)) >> right;
        }
        for (int i = 0; i < n; i++) {
            out[i] = (int) wide[i];
        }
        int z = (int) zeroPoint;
        int l = (int) lo;
        int h = (int) hi;
        for (int i = 0; i < n; i++) {
            // v + z clamped to [l, h], with masks: v - l < 0 exactly when below.
            int v = out[i] + z;
            int below = v - l;
            v -= below & (below >> 31);
            int above = v - h;
            out[i] = h + (above & (above >> 31));
        }
    }

    /** The Q31 mantissa (for reports and fault emulation). */
    public long mantissa() {
        return mantissa;
    }

    /** Net right shift applied after multiplying by the mantissa (negative: left shift). */
    public int shift() {
        return rightShift - leftShift;
    }

    /** A requantizer with the same mantissa and the shift changed by {@code delta}. */
    public Requantizer withShiftDelta(int delta) {
        return new Requantizer(
                Math.scalb((double) mantissa, -(rightShift - leftShift) - delta),
                mode,
                Math.scalb(multiplierF, -delta));
    }

    static long fixed(long acc, long m, int right, int left) {
        long x = acc << left;
        if (right == 0) {
            return x * m;
        }
        // |x| < 2^40 and m < 2^31 in practice; Math.multiplyHigh keeps exactness beyond that.
        long hi = Math.multiplyHigh(Math.abs(x), m);
        long lo = Math.abs(x) * m;
        long r;
        // Shifts past 62 bits (M < 2^-32) still matter for 64-bit accumulators: exact path, not 0.
        if (hi == 0 && lo >= 0 && right <= 62) {
            r = (lo + (1L << (right - 1))) >>> right;
        } else {
            java.math.BigInteger p =
                    java.math.BigInteger.valueOf(Math.abs(x)).multiply(java.math.BigInteger.valueOf(m));
            r = p.add(java.math.BigInteger.ONE.shiftLeft(right - 1))
                    .shiftRight(right)
                    .longValue();
        }
        return x < 0 ? -r : r;
    }
}
