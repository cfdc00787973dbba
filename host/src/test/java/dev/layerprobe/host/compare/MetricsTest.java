package dev.layerprobe.host.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MetricsTest {
    private static final double EPS = 1e-12;
    private static final String[] STATISTICS = {"Σab", "Σa²", "Σb²", "Σ(a−b)²", "Σ|a−b|", "max|a−b|", "close count"};

    @Test
    void handComputedStatistics() {
        // a=[1,2,3], b=[1,2,4]: Σab=17, Σa²=14, Σb²=21, Σ(a-b)²=1.
        MetricResult r = new Metrics(0.5, 0.1)
                .add(new float[] {1, 2, 3}, new float[] {1, 2, 4})
                .result();
        assertEquals(3, r.count());
        assertEquals(17 / Math.sqrt(14 * 21), r.cos(), EPS);
        assertEquals(1.0, r.euc(), EPS);
        assertEquals(1 / Math.sqrt(14), r.relEuc(), EPS);
        assertEquals(1.0 / 3, r.mse(), EPS);
        assertEquals(10 * Math.log10(14), r.sqnrDb(), EPS);
        assertEquals(1.0, r.maxAbs(), EPS);
        assertEquals(1.0 / 3, r.meanAbs(), EPS);
        // |3-4| = 1 > 0.5 + 0.1*3
        assertEquals(2.0 / 3, r.allclose(), EPS);
        assertFalse(r.hasCodes());
        assertNull(r.bitExact());
    }

    @Test
    void allcloseMeasuresRelativeToTheFirstArgument() {
        // 1 <= 0.5 + 0.15*|b|=1.1 but not <= 0.5 + 0.15*|a|=0.95: a is the reference.
        assertEquals(
                2.0 / 3,
                new Metrics(0.5, 0.15)
                        .add(new float[] {1, 2, 3}, new float[] {1, 2, 4})
                        .result()
                        .allclose(),
                EPS);
        assertEquals(
                1.0,
                new Metrics(0.5, 0.15)
                        .add(new float[] {1, 2, 4}, new float[] {1, 2, 3})
                        .result()
                        .allclose(),
                EPS);
    }

    @Test
    void chunksGiveTheSameResultAsOnePass() {
        float[] a = new float[1000];
        float[] b = new float[1000];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) Math.sin(i);
            b[i] = a[i] + (i % 7 == 0 ? 0.01f : 0f);
        }
        MetricResult whole = new Metrics().add(a, b).result();
        Metrics chunked = new Metrics();
        for (int off = 0; off < a.length; off += 300) {
            chunked.add(a, b, off, Math.min(300, a.length - off));
        }
        MetricResult c = chunked.result();
        assertEquals(whole.cos(), c.cos(), 1e-12);
        assertEquals(whole.euc(), c.euc(), 1e-12);
        assertEquals(whole.maxAbs(), c.maxAbs(), 0);
        assertEquals(whole.allclose(), c.allclose(), 0);
        assertEquals(1000, c.count());
    }

    @Test
    void bothZeroIsAPerfectMatch() {
        MetricResult r = new Metrics().add(new float[3], new float[3]).result();
        assertEquals(1.0, r.cos());
        assertEquals(0.0, r.euc());
        assertEquals(0.0, r.relEuc());
        assertEquals(Double.POSITIVE_INFINITY, r.sqnrDb());
        assertEquals(1.0, r.allclose());
    }

    @Test
    void exactlyOneSideZero() {
        MetricResult refZero =
                new Metrics().add(new float[] {0, 0}, new float[] {3, 4}).result();
        assertEquals(0.0, refZero.cos());
        assertEquals(5.0, refZero.euc(), EPS);
        assertEquals(Double.POSITIVE_INFINITY, refZero.relEuc());
        assertEquals(Double.NEGATIVE_INFINITY, refZero.sqnrDb());

        MetricResult candZero =
                new Metrics().add(new float[] {3, 4}, new float[] {0, 0}).result();
        assertEquals(0.0, candZero.cos());
        assertEquals(1.0, candZero.relEuc(), EPS);
        assertEquals(0.0, candZero.sqnrDb(), EPS);
    }

    @Test
    void identicalVectorsAreExactlyOne() {
        float[] a = {0.1f, 0.7f, -0.3f, 1e-3f};
        MetricResult r = new Metrics().add(a, a.clone()).result();
        assertEquals(1.0, r.cos());
        assertEquals(Double.POSITIVE_INFINITY, r.sqnrDb());
    }

    @Test
    void codesGiveBitExactAndMaxLsb() {
        Metrics m = new Metrics();
        m.addCodes(new int[] {1, 2, 3, -128}, new int[] {1, 4, 3, 127}, 0, 4);
        MetricResult r = m.result();
        assertEquals(0.5, r.bitExact(), EPS);
        assertEquals(255L, r.maxLsb());
        assertEquals(0, r.count());

        // real = 0.5 * (code - 1): a = [0, 1], b = [0, 2]
        MetricResult q = new Metrics()
                .addCodes(new int[] {1, 3}, new int[] {1, 5}, 0, 2, 0.5f, 1)
                .result();
        assertEquals(0.5, q.bitExact(), EPS);
        assertEquals(2L, q.maxLsb());
        assertEquals(1.0, q.maxAbs(), EPS);
        assertEquals(1.0, q.euc(), EPS);
    }

    @Test
    void nanIsCountedAndNeverClose() {
        MetricResult r = new Metrics()
                .add(new float[] {1, Float.NaN}, new float[] {1, 1})
                .result();
        assertEquals(1, r.nanCount());
        assertEquals(0.5, r.allclose(), EPS);
        assertTrue(Double.isNaN(r.cos()));
        assertTrue(Double.isNaN(r.maxAbs()));
        assertNull(r.toMap().get("cos"));
    }

    @Test
    void toMapIsJsonSafe() {
        Metrics m = new Metrics();
        m.add(new float[] {1, 2}, new float[] {1, 2});
        m.addCodes(new int[] {1}, new int[] {1}, 0, 1);
        Map<String, Object> map = m.result().toMap();
        assertEquals("inf", map.get("sqnr_db"));
        assertEquals(1.0, map.get("cos"));
        assertEquals(1.0, map.get("bit_exact"));
        assertEquals(0L, map.get("max_lsb"));
        assertEquals(2L, map.get("count"));
    }

    @Test
    void argumentsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new Metrics(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Metrics().add(new float[2], new float[3]));
        assertThrows(IndexOutOfBoundsException.class, () -> new Metrics().add(new float[2], new float[2], 1, 2));
    }

    @Test
    void perInputSpreadBesidesPooledStatistics() {
        Metrics m = new Metrics();
        // input 0 in two chunks: identical -> cos 1; input 1: orthogonal -> cos 0; input 2: cos 17/sqrt(14*21)
        m.add(new float[] {1, 2}, new float[] {1, 2})
                .add(new float[] {3}, new float[] {3})
                .endInput();
        m.endInput(); // nothing added since: no input counted
        m.add(new float[] {1, 0}, new float[] {0, 1}).endInput();
        m.add(new float[] {1, 2, 3}, new float[] {1, 2, 4}).endInput();
        MetricResult r = m.result();
        InputSpread s = r.spread();
        assertEquals(3, s.inputs());
        assertEquals((1 + 0 + 17 / Math.sqrt(14 * 21)) / 3, s.meanCos(), EPS);
        assertEquals(0.0, s.worstCos(), EPS);
        assertEquals(1, s.worstInput());
        // pooled over all eight elements: Σab=14+0+17, Σa²=14+1+14, Σb²=14+1+21
        assertEquals(31 / Math.sqrt(29 * 36), r.cos(), EPS);
        assertTrue(r.hasSpread());
        Map<String, Object> map = r.toMap();
        assertEquals(3, map.get("inputs"));
        assertEquals(1, map.get("worst_input"));
    }

    @Test
    void oneInputHasNoSpreadInTheReportAndNanIsTheWorst() {
        MetricResult one =
                new Metrics().add(new float[] {1}, new float[] {2}).endInput().result();
        assertFalse(one.hasSpread());
        assertFalse(one.toMap().containsKey("cos_mean"));
        Metrics m = new Metrics();
        m.add(new float[] {1}, new float[] {1}).endInput();
        m.add(new float[] {1}, new float[] {Float.NaN}).endInput();
        m.add(new float[] {1}, new float[] {-1}).endInput();
        InputSpread s = m.result().spread();
        assertTrue(Double.isNaN(s.worstCos()));
        assertEquals(1, s.worstInput());
    }

    @Test
    void vectorPassIsLoadedUnderTheBuildsJvmOptions() {
        // Surefire passes --add-modules jdk.incubator.vector, as the launchers do.
        assertTrue(MetricPass.vector().isPresent(), "VectorMetricPass did not load: is src/main/vector compiled?");
        assertTrue(MetricPass.best() != MetricPass.scalar(), "Metrics runs the scalar pass");
    }

    /**
     * Both forms of the pass against the loop {@code add} ran before it had forms, kept here as it
     * was: every sum, the maximum and the count bit for bit, chunk by chunk, on values that make
     * every rounding and every edge count (wide exponents, denormals, signed zeros, infinities,
     * NaNs with payloads of either sign), chunks of 0 to 100 elements and a few long ones, at odd
     * offsets, from maxima the pooled state can hold. A NaN result only has to be NaN: which of two
     * NaNs an add passes on depends on the order the JIT gives its operands, so the old loop itself
     * gives other NaN bits interpreted than compiled.
     */
    @Test
    void bothPassesGiveTheOriginalLoopsBits() {
        MetricPass vector = MetricPass.vector().orElseThrow();
        Random r = new Random(16);
        double[] starts = {0.0, -0.0, 1e-3, 7.5, Double.POSITIVE_INFINITY, Double.NaN, -1.0, Double.MIN_VALUE};
        double[][] tolerances = {{1e-8, 1e-5}, {0.0, 0.0}, {1e-3, 0.0}, {0.0, 1e-2}, {0.5, Double.POSITIVE_INFINITY}};
        for (int trial = 0; trial < 3000; trial++) {
            int len = trial % 50 == 0 ? 100 + r.nextInt(3000) : r.nextInt(101);
            int aOff = r.nextInt(9);
            int bOff = r.nextInt(9);
            float[] a = new float[aOff + len + r.nextInt(3)];
            float[] b = new float[bOff + len + r.nextInt(3)];
            int specials = r.nextInt(4); // 0: none; more: more often
            for (int i = 0; i < len; i++) {
                float x = value(r, specials);
                a[aOff + i] = x;
                b[bOff + i] = switch (r.nextInt(5)) {
                    case 0 -> x;
                    case 1 -> Math.nextUp(x);
                    case 2 -> x * (1 + 1e-5f * (float) r.nextGaussian());
                    default -> value(r, specials);
                };
            }
            double[] tol = tolerances[r.nextInt(tolerances.length)];
            double start = starts[r.nextInt(starts.length)];
            double[] want = original(a, aOff, b, bOff, len, tol[0], tol[1], start);
            for (MetricPass pass : new MetricPass[] {vector, MetricPass.scalar()}) {
                MetricPass.Sums s = new MetricPass.Sums();
                s.max = start;
                pass.add(a, aOff, b, bOff, len, tol[0], tol[1], s);
                double[] got = {s.ab, s.aa, s.bb, s.dd, s.abs, s.max, s.close};
                for (int k = 0; k < want.length; k++) {
                    String what = pass.getClass().getSimpleName() + ": " + STATISTICS[k] + " of " + len + " elements";
                    assertEquals(bits(want[k]), bits(got[k]), what);
                }
            }
        }
    }

    /**
     * Pooled over many chunks and inputs, an accumulator on either pass writes the bytes of one on
     * the original loop: every pooled double by its bits, the counts, the NaNs.
     */
    @Test
    void bothPassesPoolToTheOriginalLoopsBits() throws IOException {
        Random r = new Random(61);
        int n = 40_000;
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = value(r, i < n / 2 ? 0 : 1);
            b[i] = r.nextInt(3) == 0 ? a[i] : a[i] + 0.01f * (float) r.nextGaussian();
        }
        double atol = 1e-6;
        double rtol = 1e-3;
        Metrics vector = new Metrics(atol, rtol, MetricPass.vector().orElseThrow());
        Metrics scalar = new Metrics(atol, rtol, MetricPass.scalar());
        double[] pooled = new double[8]; // ab, aa, bb, dd, abs, max, close, nans as Metrics pools them
        for (int off = 0; off < n; ) {
            int len = Math.min(n - off, r.nextInt(4) == 0 ? r.nextInt(5000) : r.nextInt(101));
            vector.add(a, b, off, len);
            scalar.add(a, b, off, len);
            double[] c = original(a, off, b, off, len, atol, rtol, pooled[5]);
            for (int k = 0; k < 5; k++) {
                pooled[k] += c[k];
            }
            pooled[5] = c[5];
            pooled[6] += c[6];
            for (int i = off; i < off + len; i++) {
                pooled[7] += Double.isNaN((double) a[i] - b[i]) ? 1 : 0;
            }
            off += len;
        }
        // What write() writes: atol, rtol, count, the five sums, the maximum, close, NaNs, and the
        // three code statistics; doubles by bits(), so any NaN compares as NaN.
        long[] want = {bits(atol), bits(rtol), n, 0, 0, 0, 0, 0, 0, (long) pooled[6], (long) pooled[7], 0, 0, 0};
        for (int k = 0; k < 6; k++) {
            want[3 + k] = bits(pooled[k]);
        }
        assertTrue(pooled[7] > 0 && !Double.isNaN(pooled[5]), "the data has NaNs, and a maximum to keep");
        assertArrayEquals(want, written(vector), "vector pass");
        assertArrayEquals(want, written(scalar), "scalar pass");
    }

    /** The raw bits of a double, but one NaN for all (see bothPassesGiveTheOriginalLoopsBits). */
    private static long bits(double v) {
        return Double.isNaN(v) ? Double.doubleToLongBits(Double.NaN) : Double.doubleToRawLongBits(v);
    }

    /** Gaussians of exponents from denormal to near overflow, and with {@code specials} > 0 now and then ±0, ±inf or a NaN. */
    private static float value(Random r, int specials) {
        if (specials > 0 && r.nextInt(40) < specials) {
            return switch (r.nextInt(7)) {
                case 0 -> 0f;
                case 1 -> -0f;
                case 2 -> Float.POSITIVE_INFINITY;
                case 3 -> Float.NEGATIVE_INFINITY;
                case 4 -> Float.intBitsToFloat(0x7fc00000 | r.nextInt(1 << 22));
                case 5 -> Float.intBitsToFloat(0xffc00000 | r.nextInt(1 << 22));
                default -> Float.MIN_VALUE * r.nextInt(1000);
            };
        }
        return switch (r.nextInt(4)) {
            case 0 -> (float) (r.nextGaussian() * Math.pow(10, r.nextInt(76) - 38)); // includes denormals
            case 1 -> Float.MIN_NORMAL * (float) r.nextGaussian(); // denormals
            default -> (float) r.nextGaussian();
        };
    }

    /**
     * The loop of {@code Metrics.add} before the pass had forms, unchanged: {Σab, Σa², Σb², Σ(a−b)²,
     * Σ|a−b|, the maximum from {@code max}, the close count}.
     */
    private static double[] original(
            float[] a, int aOff, float[] b, int bOff, int len, double atol, double rtol, double max) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        double dd = 0;
        double abs = 0;
        double mx = max;
        long cl = 0;
        final double at = atol;
        final double rt = rtol;
        for (int i = 0; i < len; i++) {
            double x = a[aOff + i];
            double y = b[bOff + i];
            double d = x - y;
            double ad = Math.abs(d);
            ab += x * y;
            aa += x * x;
            bb += y * y;
            dd += d * d;
            abs += ad;
            mx = ad > mx ? ad : mx;
            cl += ad <= at + rt * Math.abs(x) ? 1 : 0;
        }
        return new double[] {ab, aa, bb, dd, abs, mx, cl};
    }

    /** What {@link Metrics#write} writes, eight bytes at a time, with the doubles through bits(). */
    private static long[] written(Metrics m) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            m.write(out);
        }
        ByteBuffer in = ByteBuffer.wrap(bytes.toByteArray());
        long[] slots = new long[in.remaining() / 8];
        for (int k = 0; k < slots.length; k++) {
            boolean isDouble = k < 2 || (k >= 3 && k <= 8);
            slots[k] = isDouble ? bits(in.getDouble()) : in.getLong();
        }
        return slots;
    }

    /**
     * Against the definitions written out plainly, element by element in double, on random data
     * with close and far elements, zeros, infinities and NaNs: every statistic bit for bit, since
     * the accumulator sums in the same order.
     */
    @Test
    void matchesAPlainReferenceBitForBitOnRandomData() {
        Random r = new Random(11);
        int n = 10_000;
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
            b[i] = switch (r.nextInt(6)) {
                case 0 -> a[i];
                case 1 -> a[i] * (1 + 1e-6f);
                case 2 -> 0f;
                default -> a[i] + (float) (0.01 * r.nextGaussian());
            };
        }
        double atol = 1e-4;
        double rtol = 1e-3;
        MetricResult finite = new Metrics(atol, rtol).add(a, b).result();
        assertReference(a, b, atol, rtol, finite);

        a[17] = Float.NaN;
        b[4000] = Float.NaN;
        a[123] = Float.POSITIVE_INFINITY;
        b[321] = Float.NEGATIVE_INFINITY;
        Metrics chunked = new Metrics(atol, rtol);
        chunked.add(a, b, 0, 5000);
        chunked.add(a, b, 5000, 5000);
        MetricResult special = chunked.result();
        assertEquals(2, special.nanCount());
        assertTrue(Double.isNaN(special.maxAbs()));
        assertTrue(Double.isNaN(special.cos()));
        assertEquals(reference(a, b, atol, rtol)[6], special.allclose() * n, 0);
    }

    /** {Σab, Σa², Σb², Σ(a−b)², Σ|a−b|, max|a−b|, close count, NaN count}, in element order. */
    private static double[] reference(float[] a, float[] b, double atol, double rtol) {
        double[] s = new double[8];
        for (int i = 0; i < a.length; i++) {
            double x = a[i];
            double y = b[i];
            double d = x - y;
            s[0] += x * y;
            s[1] += x * x;
            s[2] += y * y;
            s[3] += d * d;
            s[4] += Math.abs(d);
            if (Math.abs(d) > s[5]) {
                s[5] = Math.abs(d);
            }
            if (Math.abs(d) <= atol + rtol * Math.abs(x)) {
                s[6]++;
            }
            if (Double.isNaN(d)) {
                s[7]++;
            }
        }
        return s;
    }

    private static void assertReference(float[] a, float[] b, double atol, double rtol, MetricResult r) {
        double[] s = reference(a, b, atol, rtol);
        int n = a.length;
        assertEquals(Math.max(-1.0, Math.min(1.0, s[0] / Math.sqrt(s[1] * s[2]))), r.cos(), 0);
        assertEquals(Math.sqrt(s[3]), r.euc(), 0);
        assertEquals(Math.sqrt(s[3]) / Math.sqrt(s[1]), r.relEuc(), 0);
        assertEquals(s[3] / n, r.mse(), 0);
        assertEquals(10.0 * Math.log10(s[1] / s[3]), r.sqnrDb(), 0);
        assertEquals(s[4] / n, r.meanAbs(), 0);
        assertEquals(s[5], r.maxAbs(), 0);
        assertEquals(s[6] / n, r.allclose(), 0);
        assertEquals(0, r.nanCount());
        assertTrue(r.allclose() > 0.3 && r.allclose() < 0.9, "the data mixes close and far elements");
    }
}
