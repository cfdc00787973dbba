package dev.layerprobe.simulator.kernels;

/**
 * Tanh and Sigmoid over float32 arrays, for the elementwise kernels and the recurrent cells.
 *
 * <p>Why not {@code Math.tanh} / {@code Math.exp}: they are calls HotSpot cannot vectorise (tens of
 * ns per value; an ESPCN-class model spent more time in Tanh than in its convolutions). Both
 * functions come from E = expm1(v) in double, v = -2x for tanh(x) = -E / (2 + E) and v = -x for
 * sigmoid(x) = 1 / (2 + E), forms without cancellation for either sign of x. Numerics: v = n ln2 + r
 * with n = rint(v log2 e), |r| <= ln2/2, ln2 split as in {@link DoubleExp}; e^r - 1 is its Taylor
 * polynomial of degree 13 without the constant term (so small |v| keeps full relative precision);
 * E = 2^n (e^r - 1) + (2^n - 1). Every step is double, far below float32's resolution, and the
 * result is rounded once to float32: it is the float nearest the exact value, as
 * {@code (float) Math.tanh(x)} is, except for values within about 1e-15 of a halfway point between
 * two floats. Arguments are clamped where the result is already ±1 (tanh, |x| > 20) or 0 and 1
 * (sigmoid, |x| > 700), NaN stays NaN.
 * Stateless; large arrays are split over the common pool ({@link Chunks}), each value computed
 * the same way.
 */
final class TanhSigmoid {
    /** Values per block: the double scratch of a block stays in L1. */
    private static final int BLOCK = 1024;
    /** Work per value, in nanoseconds on one thread, for {@link Chunks}. */
    private static final long NANOS = 2;

    private static final ThreadLocal<double[][]> SCRATCH =
            ThreadLocal.withInitial(() -> new double[][] {new double[BLOCK], new double[BLOCK]});

    private TanhSigmoid() {}

    /** dst[i] = tanh(src[i]) for i < len (dst may be src). */
    static void tanh(float[] src, float[] dst, int len) {
        apply(src, 0, dst, 0, len, true);
    }

    /** dst[i] = 1 / (1 + e^-src[i]) for i < len (dst may be src). */
    static void sigmoid(float[] src, float[] dst, int len) {
        apply(src, 0, dst, 0, len, false);
    }

    /** dst[dOff + i] = tanh (or sigmoid) of src[sOff + i] for i < len (dst may be src, at the same offset). */
    static void apply(float[] src, int sOff, float[] dst, int dOff, int len, boolean tanh) {
        Chunks.run(len, NANOS, (from, to) -> {
            for (int i = from; i < to; i += BLOCK) {
                block(src, sOff + i, dst, dOff + i, Math.min(BLOCK, to - i), tanh);
            }
        });
    }

    private static void block(float[] src, int sOff, float[] dst, int dOff, int len, boolean tanh) {
        double[][] s = SCRATCH.get();
        double[] v = s[0];
        double[] n = s[1];
        double scale = tanh ? -2.0 : -1.0;
        double bound = tanh ? 40.0 : 700.0;
        for (int i = 0; i < len; i++) {
            v[i] = Math.min(Math.max(src[sOff + i] * scale, -bound), bound);
        }
        DoubleExp.expm1Reduced(v, n, len);
        // 2^n needs a conversion to long, which C2 (JDK 17) does not vectorise: a scalar pass.
        if (tanh) {
            for (int i = 0; i < len; i++) {
                double two = Double.longBitsToDouble(((long) n[i] + 1023) << 52);
                double e = two * v[i] + (two - 1.0);
                float x = src[sOff + i];
                // tanh(±0) = ±0 (the formula gives -0 for both).
                dst[dOff + i] = x == 0f ? x : (float) (-e / (2.0 + e));
            }
        } else {
            for (int i = 0; i < len; i++) {
                double two = Double.longBitsToDouble(((long) n[i] + 1023) << 52);
                double e = two * v[i] + (two - 1.0);
                dst[dOff + i] = (float) (1.0 / (2.0 + e));
            }
        }
    }
}
