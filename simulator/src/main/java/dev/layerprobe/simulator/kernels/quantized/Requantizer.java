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
    /** The one-pass row form of the fixed-point mode, or null without the Vector API. */
    private static final FixedRows ROWS = FixedRows.vector().orElse(null);

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
     * codes as {@link #apply}, in one pass ({@link FixedRows}) where the Vector API and the fixed
     * mode's conditions allow, else through {@link #scaleRow} and {@link #toCodes}. When acc and out
     * are longer than n, up to {@link FixedRows#SLACK} ints of out past n may be overwritten.
     *
     * @param wide scratch of at least {@code n} longs (overwritten)
     */
    public void applyRow(
            int[] acc, int n, long bias, boolean wrapInt16, long zeroPoint, long lo, long hi, long[] wide, int[] out) {
        if (!wrapInt16 && ROWS != null && fixedRowFits(bias, zeroPoint, lo, hi)) {
            ROWS.row(acc, n, bias, mantissa, rightShift, zeroPoint, lo, hi, out);
            return;
        }
        // One operation kind per loop: C2 (JDK 17) vectorises the long arithmetic and the int
        // clamp loops apart, not a loop mixing them; the int-to-long and long-to-int loops stay
        // scalar, hence the one-pass vector form above.
        for (int i = 0; i < n; i++) {
            wide[i] = acc[i];
        }
        long maxAbs;
        if (wrapInt16) {
            for (int i = 0; i < n; i++) {
                wide[i] = (short) (wide[i] + bias);
            }
            maxAbs = 1L << 15;
        } else {
            for (int i = 0; i < n; i++) {
                wide[i] += bias;
            }
            long b = Math.abs(bias);
            maxAbs = b < 0 || b > Long.MAX_VALUE - (1L << 31) ? Long.MAX_VALUE : b + (1L << 31);
        }
        scaleRow(wide, n, maxAbs);
        toCodes(wide, n, scaledBound(maxAbs), zeroPoint, lo, hi, out);
    }

    /**
     * Whether {@link FixedRows}' one pass computes {@link #applyRow}'s codes for int32 sums plus
     * {@code bias} (its conditions, so the codes of {@link #scaleRow}'s vector formula and the
     * clamp), with a zero point and bounds that are ints.
     */
    private boolean fixedRowFits(long bias, long zeroPoint, long lo, long hi) {
        if (mode != RequantMode.FIXED || leftShift != 0 || rightShift < 1 || rightShift > 62 || lo > hi) {
            return false;
        }
        if (zeroPoint != (int) zeroPoint || lo != (int) lo || hi != (int) hi) {
            return false;
        }
        long b = Math.abs(bias);
        return b >= 0 && b <= (1L << 40) && b + (1L << 31) <= (Long.MAX_VALUE - (1L << (rightShift - 1))) / mantissa;
    }

    /**
     * {@code v[i] = scale(v[i])} for {@code i < n}, given {@code |v[i]| <= maxAbs}. In FIXED mode
     * with a right shift s and {@code maxAbs * m + 2^(s-1) < 2^63}, as one vectorisable loop:
     * {@code (a * m + 2^(s-1) + (a < 0 ? -1 : 0)) >> s} (arithmetic shift) is {@link #fixed}'s
     * {@code ±((|a| m + 2^(s-1)) >>> s)}, because {@code -floor(X / 2^s) = floor((2^s - 1 - X) / 2^s)};
     * otherwise element by element.
     */
    public void scaleRow(long[] v, int n, long maxAbs) {
        if (mode != RequantMode.FIXED
                || leftShift != 0
                || rightShift < 1
                || rightShift > 62
                || maxAbs > (Long.MAX_VALUE - (1L << (rightShift - 1))) / mantissa) {
            for (int i = 0; i < n; i++) {
                v[i] = scale(v[i]);
            }
            return;
        }
        long m = mantissa;
        int right = rightShift;
        long round = 1L << (right - 1);
        for (int i = 0; i < n; i++) {
            long a = v[i];
            v[i] = (a * m + round + (a >> 63)) >> right;
        }
    }

    /** A bound on {@code |scale(a)|} for {@code |a| <= maxAbs}. */
    public long scaledBound(long maxAbs) {
        if (mode == RequantMode.FLOAT) {
            return (long) Math.ceil(maxAbs * (double) multiplierF * (1 + 0x1p-20)) + 1;
        }
        double bound = maxAbs * Math.scalb((double) mantissa, -(rightShift - leftShift));
        return bound >= 0x1p62 ? Long.MAX_VALUE : (long) Math.ceil(bound * (1 + 0x1p-40)) + 1;
    }

    /**
     * {@code out[i] = clamp(v[i] + zeroPoint, lo, hi)} for {@code i < n}, given
     * {@code |v[i]| <= maxAbs}: on ints, with the clamp as mask arithmetic (which C2 vectorises,
     * not branches or Math.min/max), when the values, zero point and bounds leave room in int32;
     * element by element in 64 bits otherwise.
     */
    public static void toCodes(long[] v, int n, long maxAbs, long zeroPoint, long lo, long hi, int[] out) {
        long limit = 1L << 24;
        if (maxAbs > 1L << 29 || Math.abs(zeroPoint) > limit || Math.abs(lo) > limit || Math.abs(hi) > limit) {
            for (int i = 0; i < n; i++) {
                long y = v[i] + zeroPoint;
                out[i] = (int) (y < lo ? lo : y > hi ? hi : y);
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            out[i] = (int) v[i];
        }
        int z = (int) zeroPoint;
        int l = (int) lo;
        int h = (int) hi;
        for (int i = 0; i < n; i++) {
            // |v + z - l| < 2^30 + 2^25: v - l < 0 exactly when below.
            int y = out[i] + z;
            int below = y - l;
            y -= below & (below >> 31);
            int above = y - h;
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
        } else if (x != Long.MIN_VALUE) {
            r = roundShift128(hi, lo, right);
        } else {
            java.math.BigInteger p =
                    java.math.BigInteger.valueOf(Math.abs(x)).multiply(java.math.BigInteger.valueOf(m));
            r = p.add(java.math.BigInteger.ONE.shiftLeft(right - 1))
                    .shiftRight(right)
                    .longValue();
        }
        return x < 0 ? -r : r;
    }

    /**
     * The low 64 bits of {@code (p + 2^(right-1)) >> right} for the non-negative 128-bit
     * {@code p = hi * 2^64 + lo} (lo unsigned, {@code hi < 2^62}) and {@code right >= 1}: what the
     * BigInteger form computes, in a few long operations (int16 accumulators times a Q31 mantissa
     * leave 64 bits).
     */
    static long roundShift128(long hi, long lo, int right) {
        long sumLo = lo;
        long sumHi = hi;
        if (right <= 64) {
            sumLo = lo + (1L << (right - 1));
            if (Long.compareUnsigned(sumLo, lo) < 0) {
                sumHi++;
            }
        } else if (right <= 127) {
            sumHi += 1L << (right - 65);
        }
        if (right < 64) {
            return (sumHi << (64 - right)) | (sumLo >>> right);
        }
        return right < 128 ? sumHi >>> (right - 64) : 0;
    }
}
