package dev.layerprobe.simulator.kernels;

/**
 * e^v in double over an array, for kernels that take many exponentials at once (Softmax).
 *
 * <p>Why not {@code Math.exp}: it is a call HotSpot cannot vectorise (about 10 ns per value here),
 * while the polynomial below is plain double arithmetic that C2 turns into vector code. Numerics:
 * v = n ln2 + r with n = rint(v log2 e) and |r| <= ln2/2, ln2 split into a high part with 21 trailing
 * zero bits (so n ln2_hi is exact) and a low part; e^r is its Taylor polynomial of degree 13
 * (truncation below 5e-18 relative), evaluated by Horner; 2^n is put into the exponent bits. The
 * result is within one ulp of {@code Math.exp} (it equals it for about nine values in ten), and
 * exactly 1 at v = 0. Stateless.
 */
final class DoubleExp {
    /** Smallest argument handled: below it 2^n would leave the normal range of double. */
    static final double MIN = -708.0;
    /** Largest argument handled: above it e^v overflows double. */
    static final double MAX = 709.0;

    private static final double LOG2E = 1.4426950408889634;
    private static final double LN2_HI = 0.6931471803691238;
    private static final double LN2_LO = 1.9082149292705877E-10;

    private DoubleExp() {}

    /**
     * v[i] = e^v[i] for i < len, in place, for v[i] in [{@link #MIN}, {@link #MAX}] (the caller
     * clamps); NaN stays NaN.
     *
     * @param n scratch of at least len values (the exponent of each value)
     * @return the sum of the results, added in index order in double (Softmax's denominator, taken
     *     in the scalar pass that has to run anyway)
     */
    static double expInPlace(double[] v, double[] n, int len) {
        expm1Reduced(v, n, len);
        // The scaling by 2^n needs a conversion to long, which C2 (JDK 17) does not vectorise: a
        // separate scalar pass, so that it does not keep the polynomial above scalar too.
        double sum = 0;
        for (int i = 0; i < len; i++) {
            double e = (v[i] + 1.0) * Double.longBitsToDouble(((long) n[i] + 1023) << 52);
            v[i] = e;
            sum += e;
        }
        return sum;
    }

    /**
     * The argument reduction and polynomial shared by every exponential here: x = k ln2 + r with
     * |r| <= ln2 / 2, then v[i] = e^r - 1 (a degree-13 Taylor polynomial, exact to the last bit of
     * double for such r) and n[i] = k, in place, so that e^x = (v[i] + 1) 2^n[i]. Java does not
     * fuse multiply-adds on its own, so adding the 1 later rounds exactly as adding it here would.
     */
    static void expm1Reduced(double[] v, double[] n, int len) {
        // One loop C2 vectorises: every array is indexed by i alone, and no conversions.
        for (int i = 0; i < len; i++) {
            double x = v[i];
            double k = Math.rint(x * LOG2E);
            double r = (x - k * LN2_HI) - k * LN2_LO;
            double p = 1.0 / 6227020800.0;
            p = p * r + 1.0 / 479001600.0;
            p = p * r + 1.0 / 39916800.0;
            p = p * r + 1.0 / 3628800.0;
            p = p * r + 1.0 / 362880.0;
            p = p * r + 1.0 / 40320.0;
            p = p * r + 1.0 / 5040.0;
            p = p * r + 1.0 / 720.0;
            p = p * r + 1.0 / 120.0;
            p = p * r + 1.0 / 24.0;
            p = p * r + 1.0 / 6.0;
            p = p * r + 0.5;
            p = p * r + 1.0;
            v[i] = p * r;
            n[i] = k;
        }
    }
}
