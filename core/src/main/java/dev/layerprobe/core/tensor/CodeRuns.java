package dev.layerprobe.core.tensor;

import dev.layerprobe.core.VectorForms;
import java.util.Optional;

/**
 * Quantization and dequantization of runs of elements, the one place the element loops of
 * {@link QuantParams#quantize} and {@link QuantParams#dequantize} live for whole tensors and
 * ranges of them. The arithmetic is {@link QuantParams}'s, bit for bit:
 * <ul>
 *   <li>quantize: {@code code = saturate(rint(real / scale) + zeroPoint)}, the quotient in float32,
 *       rounded half to even; NaN gives code 0, as Java's cast of NaN does;</li>
 *   <li>dequantize: {@code real = (float) ((code - zeroPoint) * (double) scale)}.</li>
 * </ul>
 * Ranges are in C order over a tensor's {@code shape}; with per-channel parameters each element
 * takes its channel's scale and zero point, looked up once per run of the channel.
 *
 * <p>Two implementations compute the same values: the scalar loops, and a Vector API form
 * ({@code VectorCodeRuns}, built from {@code src/main/vector}) used when the JVM runs with
 * {@code --add-modules jdk.incubator.vector} (the launchers and the tests pass it). The vector form
 * takes the float32-only route where it is exact and leaves every other run to the scalar loops:
 * for codes of at most 16 bits and a zero point of at most 16 bits, {@code code - zeroPoint} is an
 * integer below 2^18, exact in float32, and its product with a float32 scale is exact in double, so
 * rounding the double product to float32 is one correctly rounded float32 multiply; and with the
 * quotient clamped to the integers {@code [qmin - zp, qmax - zp]} first (rounding is monotonic,
 * so clamping before or after gives the same code), adding and subtracting 1.5 * 2^23 rounds it
 * half to even exactly. Stateless and thread-safe.
 */
public abstract class CodeRuns {
    private static final String VECTOR_CLASS = "dev.layerprobe.core.tensor.VectorCodeRuns";
    private static final CodeRuns SCALAR = new CodeRuns() {};
    private static final CodeRuns BEST = vector().orElse(SCALAR);

    /** The fastest implementation this JVM runs. */
    public static CodeRuns best() {
        return BEST;
    }

    /** The scalar loops: the reference the vector form is tested against. */
    public static CodeRuns scalar() {
        return SCALAR;
    }

    /** The Vector API form, when the JVM resolved {@code jdk.incubator.vector}. */
    public static Optional<CodeRuns> vector() {
        return VectorForms.load(CodeRuns.class, VECTOR_CLASS);
    }

    /**
     * {@code out[outOff + i] = quantize(x[xOff + i])} for {@code i < n}, all with one channel's
     * scale and zero point, saturated to {@code [qmin, qmax]}.
     */
    void quantize(
            float[] x, int xOff, int n, float scale, long zeroPoint, long qmin, long qmax, int[] out, int outOff) {
        double lo = qmin;
        double hi = qmax;
        for (int i = 0; i < n; i++) {
            double v = Math.rint(x[xOff + i] / scale) + zeroPoint;
            out[outOff + i] = (int) (long) Math.max(lo, Math.min(hi, v));
        }
    }

    /** {@code out[to + i] = dequantize(codes[from + i])} for {@code i < n}, all with one channel's scale and zero point. */
    void dequantize(int[] codes, int from, int n, float scale, long zeroPoint, float[] out, int to) {
        double s = scale;
        for (int i = 0; i < n; i++) {
            out[to + i] = (float) ((codes[from + i] - zeroPoint) * s);
        }
    }

    /**
     * Quantizes elements {@code [first, first + n)} (C order) of a tensor of {@code shape} whose
     * values are {@code x[xOff, xOff + n)} into {@code out[outOff, outOff + n)}.
     */
    public final void quantize(
            QuantParams q, int[] shape, long first, float[] x, int xOff, int n, int[] out, int outOff) {
        long qmin = q.qmin();
        long qmax = q.qmax();
        if (q.isPerTensor()) {
            quantize(x, xOff, n, q.scale(0), q.zeroPoint(0), qmin, qmax, out, outOff);
            return;
        }
        ChannelRuns c = new ChannelRuns(q, shape);
        for (int i = 0; i < n; ) {
            long at = first + i;
            int ch = c.channel(at);
            int run = c.run(at, n - i);
            quantize(x, xOff + i, run, q.scale(ch), q.zeroPoint(ch), qmin, qmax, out, outOff + i);
            i += run;
        }
    }

    /**
     * Dequantizes elements {@code [first, first + n)} (C order) of a tensor of {@code shape} whose
     * codes are {@code codes[from, from + n)} into {@code out[to, to + n)}.
     */
    public final void dequantize(
            QuantParams q, int[] shape, long first, int[] codes, int from, int n, float[] out, int to) {
        if (q.isPerTensor()) {
            dequantize(codes, from, n, q.scale(0), q.zeroPoint(0), out, to);
            return;
        }
        ChannelRuns c = new ChannelRuns(q, shape);
        for (int i = 0; i < n; ) {
            long at = first + i;
            int ch = c.channel(at);
            int run = c.run(at, n - i);
            dequantize(codes, from + i, run, q.scale(ch), q.zeroPoint(ch), out, to + i);
            i += run;
        }
    }

    /** A whole tensor quantized ({@link QTensor#quantize}). */
    public final QTensor quantize(Tensor t, QuantParams q) {
        float[] x = t.floats();
        int[] out = new int[x.length];
        int[] shape = t.shape();
        quantize(q, shape, 0, x, 0, x.length, out, 0);
        return new QTensor(shape, out, q);
    }

    /** Where the channels of a per-channel quantization run in C order. */
    private static final class ChannelRuns {
        private final long inner;
        private final int channels;

        ChannelRuns(QuantParams q, int[] shape) {
            long in = 1;
            for (int d = q.axis() + 1; d < shape.length; d++) {
                in *= shape[d];
            }
            this.inner = in;
            this.channels = shape[q.axis()];
        }

        int channel(long at) {
            return (int) ((at / inner) % channels);
        }

        /** Elements from {@code at} on in the same channel, at most {@code left}. */
        int run(long at, int left) {
            return (int) Math.min(left, inner - at % inner);
        }
    }
}
