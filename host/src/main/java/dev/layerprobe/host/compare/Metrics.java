package dev.layerprobe.host.compare;

import dev.layerprobe.core.tensor.Tensor;
import java.util.Arrays;

/**
 * A streaming comparison of a reference {@code a} with a candidate {@code b}, fed in chunks so a
 * layer is never held whole; all sums are in double. The reference is always the first argument:
 * golden for {@code entire}, {@code per_layer} and {@code golden_err}, the simulator for
 * {@code simu_err}.
 *
 * <p>Definitions and edge cases (docs/architecture.md#three-results-four-comparisons):
 * <ul>
 *   <li>{@code cos} = Σab / √(Σa²·Σb²); both all-zero → 1.0, exactly one all-zero → 0.0.</li>
 *   <li>{@code euc} = ‖a−b‖₂; {@code rel_euc} = ‖a−b‖₂ / ‖a‖₂, 0.0 when a = b (also both zero),
 *       +inf when a is all zero and b is not.</li>
 *   <li>{@code mse} = Σ(a−b)² / n; {@code max_abs}, {@code mean_abs} of |a−b|.</li>
 *   <li>{@code sqnr_db} = 10·log10(Σa² / Σ(a−b)²): +inf when a = b, −inf when a is all zero and b
 *       is not.</li>
 *   <li>{@code allclose} = fraction of elements with |a−b| ≤ atol + rtol·|a|: numpy's rule with
 *       {@code a} as the reference, i.e. {@code numpy.isclose(b, a, rtol, atol)}; NaN is never
 *       close. Defaults are numpy's (rtol 1e-5, atol 1e-8).</li>
 *   <li>{@code bit_exact}, {@code max_lsb}: from {@link #addCodes}, for two sides quantized with the
 *       same scale and zero point (the caller checks that, e.g. with
 *       {@code QuantParams.sameMapping}).</li>
 *   <li>With no elements at all every distance is 0, cos 1.0, allclose 1.0.</li>
 * </ul>
 * A NaN on either side makes the sums NaN and is counted in {@code nan_count}.
 *
 * <p>Over several inputs the statistics are pooled (every element of every input weighs alike);
 * calling {@link #endInput()} after each input also keeps each input's own cos, summarised in the
 * result's {@link InputSpread}. Not thread-safe: one accumulator per comparison.
 */
public final class Metrics {
    /** numpy's default relative tolerance. */
    public static final double DEFAULT_RTOL = 1e-5;
    /** numpy's default absolute tolerance. */
    public static final double DEFAULT_ATOL = 1e-8;

    private final double atol;
    private final double rtol;
    private final MetricPass pass;
    // One chunk's results from the pass (and the vector pass's buffer), reused chunk after chunk.
    private final MetricPass.Sums chunk = new MetricPass.Sums();
    private long count;
    private double sumAB;
    private double sumAA;
    private double sumBB;
    private double sumDD;
    private double sumAbs;
    private double maxAbs;
    private long close;
    private long nans;
    private long codeCount;
    private long codeEqual;
    private long maxLsb;
    // The current input's own sums, for its cos at endInput().
    private double inputAB;
    private double inputAA;
    private double inputBB;
    private long inputCount;
    private int inputs;
    private double sumInputCos;
    private double worstInputCos = Double.POSITIVE_INFINITY;
    private int worstInput = -1;

    public Metrics() {
        this(DEFAULT_ATOL, DEFAULT_RTOL);
    }

    public Metrics(double atol, double rtol) {
        this(atol, rtol, MetricPass.best());
    }

    /** With the given form of the pass (tests compare the forms). */
    Metrics(double atol, double rtol, MetricPass pass) {
        if (!(atol >= 0) || !(rtol >= 0)) {
            throw new IllegalArgumentException("atol and rtol must be >= 0, got atol=" + atol + " rtol=" + rtol);
        }
        this.atol = atol;
        this.rtol = rtol;
        this.pass = pass;
    }

    /** Adds {@code a[off, off+len)} (reference) against {@code b[off, off+len)}. */
    public Metrics add(float[] a, float[] b, int off, int len) {
        return add(a, off, b, off, len);
    }

    /** Adds {@code a[aOff, aOff+len)} (reference) against {@code b[bOff, bOff+len)}. */
    public Metrics add(float[] a, int aOff, float[] b, int bOff, int len) {
        if (aOff < 0 || bOff < 0 || len < 0 || aOff + len > a.length || bOff + len > b.length) {
            throw new IndexOutOfBoundsException("chunk [" + aOff + "/" + bOff + ", +" + len + ") outside arrays of "
                    + a.length + " and " + b.length);
        }
        if (addEqual(a, aOff, b, bOff, len)) {
            return this;
        }
        // Each sum is a single chain in element order from 0, then added to the pooled sum, so that
        // results stay bit for bit what they were (reports are compared across versions): see
        // MetricPass. A NaN difference makes Σ(a−b)² NaN and nothing else can (its terms are never
        // negative), so NaNs are counted only in a chunk that has one.
        MetricPass.Sums c = chunk;
        c.max = maxAbs;
        pass.add(a, aOff, b, bOff, len, atol, rtol, c);
        double ab = c.ab;
        double aa = c.aa;
        double bb = c.bb;
        double dd = c.dd;
        long nn = Double.isNaN(dd) ? nans(a, aOff, b, bOff, len) : 0;
        sumAB += ab;
        sumAA += aa;
        sumBB += bb;
        inputAB += ab;
        inputAA += aa;
        inputBB += bb;
        inputCount += len;
        sumDD += dd;
        sumAbs += c.abs;
        maxAbs = c.max;
        close += c.close;
        nans += nn;
        count += len;
        return this;
    }

    /**
     * The chunk when both sides hold the same finite values (a device that agrees with the
     * simulator): then Σab, Σa² and Σb² are one chain of the same products, Σ(a−b)² and Σ|a−b|
     * are sums of +0.0, the max is unchanged and every element is close, so one chain gives every
     * sum bit for bit as the full loop would, at a fraction of its cost. Returns false, adding
     * nothing, when the sides differ anywhere, a value is not finite, or a tolerance is infinite.
     */
    private boolean addEqual(float[] a, int aOff, float[] b, int bOff, int len) {
        if (len == 0
                || !Double.isFinite(atol)
                || !Double.isFinite(rtol)
                || !Arrays.equals(a, aOff, aOff + len, b, bOff, bOff + len)) {
            return false;
        }
        double sq = 0;
        for (int i = 0; i < len; i++) {
            double x = a[aOff + i];
            sq += x * x;
        }
        if (!Double.isFinite(sq)) {
            return false; // a NaN or an infinity (or a sum past the double range): the full loop
        }
        sumAB += sq;
        sumAA += sq;
        sumBB += sq;
        inputAB += sq;
        inputAA += sq;
        inputBB += sq;
        inputCount += len;
        sumDD += 0.0;
        sumAbs += 0.0;
        close += len;
        count += len;
        return true;
    }

    private static long nans(float[] a, int aOff, float[] b, int bOff, int len) {
        long n = 0;
        for (int i = 0; i < len; i++) {
            if (Double.isNaN((double) a[aOff + i] - b[bOff + i])) {
                n++;
            }
        }
        return n;
    }

    /** Adds whole arrays of equal length. */
    public Metrics add(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("cannot compare " + a.length + " elements with " + b.length);
        }
        return add(a, b, 0, a.length);
    }

    /**
     * Adds integer codes {@code a[off, off+len)} (reference) against {@code b[off, off+len)} to the
     * bit-exact statistics only; the caller feeds the real values through {@link #add} as well, or
     * uses {@link #addCodes(int[], int[], int, int, float, long)}.
     */
    public Metrics addCodes(int[] a, int[] b, int off, int len) {
        if (Arrays.equals(a, off, off + len, b, off, off + len)) {
            codeEqual += len;
            codeCount += len;
            return this;
        }
        long eq = 0;
        long mx = maxLsb;
        for (int i = off; i < off + len; i++) {
            long d = Math.abs((long) a[i] - b[i]);
            if (d == 0) {
                eq++;
            } else if (d > mx) {
                mx = d;
            }
        }
        codeEqual += eq;
        codeCount += len;
        maxLsb = mx;
        return this;
    }

    /**
     * Adds codes of a per-tensor quantized layer to both the code and the real-value statistics,
     * dequantizing with {@code real = scale * (code - zeroPoint)}.
     */
    public Metrics addCodes(int[] a, int[] b, int off, int len, float scale, long zeroPoint) {
        addCodes(a, b, off, len);
        float[] ra = new float[len];
        float[] rb = new float[len];
        for (int i = 0; i < len; i++) {
            ra[i] = (float) ((a[off + i] - zeroPoint) * (double) scale);
            rb[i] = (float) ((b[off + i] - zeroPoint) * (double) scale);
        }
        return add(ra, rb, 0, len);
    }

    /**
     * Closes the current input: its own cos joins the per-input mean and worst. Does nothing when
     * no element was added since the last call, so callers may call it for every layer after every
     * input whether or not the layer received data.
     */
    public Metrics endInput() {
        if (inputCount == 0) {
            return this;
        }
        double c = cos(inputAB, inputAA, inputBB);
        int index = inputs++;
        sumInputCos += c;
        // NaN is the worst there is; the first input to reach the worst value keeps it.
        if (worstInput < 0 || (!Double.isNaN(worstInputCos) && (Double.isNaN(c) || c < worstInputCos))) {
            worstInputCos = c;
            worstInput = index;
        }
        inputAB = 0;
        inputAA = 0;
        inputBB = 0;
        inputCount = 0;
        return this;
    }

    /**
     * Adds another accumulator that holds exactly one input's data, as that input: its sums join
     * the pooled ones and its cos the per-input mean and worst, as if its chunks had been added
     * here and {@link #endInput()} called. Pooling per-input accumulators this way, in input order,
     * gives the same result whichever process or thread computed each input and whenever it
     * finished. Both must use the same tolerances.
     */
    public Metrics addInput(Metrics in) {
        if (in.atol != atol || in.rtol != rtol) {
            throw new IllegalArgumentException("cannot pool metrics with other tolerances");
        }
        sumAB += in.sumAB;
        sumAA += in.sumAA;
        sumBB += in.sumBB;
        inputAB += in.sumAB;
        inputAA += in.sumAA;
        inputBB += in.sumBB;
        inputCount += in.count;
        sumDD += in.sumDD;
        sumAbs += in.sumAbs;
        maxAbs = in.maxAbs > maxAbs ? in.maxAbs : maxAbs;
        close += in.close;
        nans += in.nans;
        count += in.count;
        codeEqual += in.codeEqual;
        codeCount += in.codeCount;
        maxLsb = Math.max(maxLsb, in.maxLsb);
        return endInput();
    }

    /**
     * Writes the pooled sums (not the per-input spread) so that {@link #read} restores an
     * accumulator that {@link #addInput pools} exactly as this one would: doubles are written as
     * their bits.
     */
    public void write(java.io.DataOutput out) throws java.io.IOException {
        out.writeDouble(atol);
        out.writeDouble(rtol);
        out.writeLong(count);
        out.writeDouble(sumAB);
        out.writeDouble(sumAA);
        out.writeDouble(sumBB);
        out.writeDouble(sumDD);
        out.writeDouble(sumAbs);
        out.writeDouble(maxAbs);
        out.writeLong(close);
        out.writeLong(nans);
        out.writeLong(codeCount);
        out.writeLong(codeEqual);
        out.writeLong(maxLsb);
    }

    /** An accumulator with the sums {@link #write} wrote. */
    public static Metrics read(java.io.DataInput in) throws java.io.IOException {
        Metrics m = new Metrics(in.readDouble(), in.readDouble());
        m.count = in.readLong();
        m.sumAB = in.readDouble();
        m.sumAA = in.readDouble();
        m.sumBB = in.readDouble();
        m.sumDD = in.readDouble();
        m.sumAbs = in.readDouble();
        m.maxAbs = in.readDouble();
        m.close = in.readLong();
        m.nans = in.readLong();
        m.codeCount = in.readLong();
        m.codeEqual = in.readLong();
        m.maxLsb = in.readLong();
        m.inputAB = m.sumAB;
        m.inputAA = m.sumAA;
        m.inputBB = m.sumBB;
        m.inputCount = m.count;
        return m;
    }

    /** Elements added so far (real values). */
    public long count() {
        return count;
    }

    /** The statistics of everything added so far; the accumulator stays usable. */
    public MetricResult result() {
        double cos = cos(sumAB, sumAA, sumBB);
        double euc = Math.sqrt(sumDD);
        double relEuc = sumDD == 0 ? 0.0 : sumAA == 0 ? Double.POSITIVE_INFINITY : euc / Math.sqrt(sumAA);
        double sqnr = sumDD == 0
                ? Double.POSITIVE_INFINITY
                : sumAA == 0 ? Double.NEGATIVE_INFINITY : 10.0 * Math.log10(sumAA / sumDD);
        if (Double.isNaN(sumDD)) {
            relEuc = Double.NaN;
            sqnr = Double.NaN;
        }
        double mse = count == 0 ? 0.0 : sumDD / count;
        double meanAbs = count == 0 ? 0.0 : sumAbs / count;
        double allclose = count == 0 ? 1.0 : (double) close / count;
        Double bitExact = codeCount == 0 ? null : (double) codeEqual / codeCount;
        Long lsb = codeCount == 0 ? null : maxLsb;
        double max = nans > 0 ? Double.NaN : maxAbs;
        InputSpread spread =
                inputs == 0 ? null : new InputSpread(inputs, sumInputCos / inputs, worstInputCos, worstInput);
        return new MetricResult(
                count, cos, euc, relEuc, mse, sqnr, max, meanAbs, allclose, atol, rtol, nans, bitExact, lsb, spread);
    }

    private static double cos(double ab, double aa, double bb) {
        if (Double.isNaN(ab) || Double.isNaN(aa) || Double.isNaN(bb)) {
            return Double.NaN;
        }
        if (aa == 0 && bb == 0) {
            return 1.0;
        }
        if (aa == 0 || bb == 0) {
            return 0.0;
        }
        // Rounding can push |cos| a hair past 1 for identical vectors.
        return Math.max(-1.0, Math.min(1.0, ab / Math.sqrt(aa * bb)));
    }

    /** Compares two whole tensors of the same shape (integer tensors are compared as their values). */
    public static MetricResult compare(Tensor a, Tensor b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException(
                    "cannot compare shape " + Arrays.toString(a.shape()) + " with " + Arrays.toString(b.shape()));
        }
        return new Metrics().add(a.toFloat().floats(), b.toFloat().floats()).result();
    }
}
