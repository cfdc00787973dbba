package dev.layerprobe.simulator.kernels.quantized;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.profile.RequantMode;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The transformer's integer kernels ({@link QMatMul}, {@link QSoftmax}, {@link QLayerNorm}) against
 * a float reference on random data: the op computed in double on the dequantized input and
 * quantized to the output's parameters ({@link QuantParams#quantize}). Each must stay within the
 * bound its class comment states (at most 1 LSB on any element), and equal on nearly all codes;
 * the measured fractions are printed.
 */
class TransformerKernelsTest {
    private static final QuantParams INT8_PROB = QuantParams.perTensor(DType.INT8, 1f / 255, -128);

    /** Equal fraction and largest difference of two code arrays. */
    private record Agreement(double equal, long maxDiff) {
        static Agreement of(int[] a, int[] b) {
            assertEquals(a.length, b.length, "sizes");
            int same = 0;
            long max = 0;
            for (int i = 0; i < a.length; i++) {
                same += a[i] == b[i] ? 1 : 0;
                max = Math.max(max, Math.abs((long) a[i] - b[i]));
            }
            return new Agreement((double) same / a.length, max);
        }
    }

    private static int[] randomCodes(Random r, int n, QuantParams q) {
        int[] c = new int[n];
        long span = q.qmax() - q.qmin() + 1;
        for (int i = 0; i < n; i++) {
            c[i] = (int) (q.qmin() + r.nextInt((int) span));
        }
        return c;
    }

    /** Codes of a roughly normal tensor (std {@code sigma} in reals), as activations look. */
    private static int[] normalCodes(Random r, int n, QuantParams q, double sigma) {
        int[] c = new int[n];
        for (int i = 0; i < n; i++) {
            c[i] = (int) q.quantize((float) (r.nextGaussian() * sigma), 0);
        }
        return c;
    }

    // ---- QMatMul ----

    @Test
    void matMulOfTwoActivationsWithBroadcastBatchesIsWithinOneLsbOfFloat() {
        Random r = new Random(1);
        QuantParams aq = QuantParams.perTensor(DType.INT8, 0.05f, 3);
        QuantParams bq = QuantParams.perTensor(DType.INT8, 0.04f, -7);
        QuantParams yq = QuantParams.perTensor(DType.INT8, 0.9f, -2);
        int[] as = {2, 3, 5, 16};
        int[] bs = {3, 16, 7};
        QTensor a = new QTensor(as, randomCodes(r, 2 * 3 * 5 * 16, aq), aq);
        QTensor b = new QTensor(bs, randomCodes(r, 3 * 16 * 7, bq), bq);
        double m = (double) aq.scale(0) * bq.scale(0) / yq.scale(0);
        QMatMul mm = new QMatMul(aq, bq, new Requantizer(m, RequantMode.FIXED), yq, yq.qmin(), yq.qmax());
        QTensor y = mm.run(a, b);
        assertArrayEquals(new int[] {2, 3, 5, 7}, y.shape());
        int[] want = new int[y.size()];
        for (int bi = 0; bi < 6; bi++) {
            int bb = bi % 3;
            for (int i = 0; i < 5; i++) {
                for (int j = 0; j < 7; j++) {
                    double s = 0;
                    for (int t = 0; t < 16; t++) {
                        s += aq.dequantize(a.codes()[(bi * 5 + i) * 16 + t], 0)
                                * (double) bq.dequantize(b.codes()[(bb * 16 + t) * 7 + j], 0);
                    }
                    want[(bi * 5 + i) * 7 + j] = (int) yq.quantize((float) s, 0);
                }
            }
        }
        Agreement g = Agreement.of(y.codes(), want);
        System.out.printf("QMatMul activations: %.4f equal, max %d LSB%n", g.equal(), g.maxDiff());
        assertTrue(g.maxDiff() <= 1, "max " + g.maxDiff());
        assertTrue(g.equal() >= 0.99, "equal " + g.equal());
    }

    @Test
    void matMulByPerChannelWeightsWithBiasIsWithinOneLsbOfFloat() {
        Random r = new Random(2);
        int k = 64;
        int n = 24;
        int m = 50;
        QuantParams aq = QuantParams.perTensor(DType.INT8, 0.03f, -10);
        float[] ws = new float[n];
        for (int j = 0; j < n; j++) {
            ws[j] = 0.002f * (1 + j);
        }
        QuantParams wq = new QuantParams(DType.INT8, ws, new long[n], 1);
        int[] wc = new int[k * n];
        for (int i = 0; i < wc.length; i++) {
            wc[i] = r.nextInt(255) - 127;
        }
        float[] bias = new float[n];
        long[] accBias = new long[n];
        Requantizer[] rq = new Requantizer[n];
        QuantParams yq = QuantParams.perTensor(DType.INT8, 0.2f, 5);
        for (int j = 0; j < n; j++) {
            double accScale = (double) aq.scale(0) * ws[j];
            accBias[j] = Math.round((r.nextGaussian() * 2) / accScale);
            bias[j] = (float) (accBias[j] * accScale);
            rq[j] = new Requantizer(accScale / yq.scale(0), RequantMode.FIXED);
        }
        QTensor a = new QTensor(new int[] {m, k}, normalCodes(r, m * k, aq, 1.0), aq);
        QMatMul mm = new QMatMul(aq, new QTensor(new int[] {k, n}, wc, wq), accBias, rq, yq, yq.qmin(), yq.qmax());
        QTensor y = mm.run(a);
        int[] want = new int[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = bias[j];
                for (int t = 0; t < k; t++) {
                    s += aq.dequantize(a.codes()[i * k + t], 0) * (double) wq.dequantize(wc[t * n + j], j);
                }
                want[i * n + j] = (int) yq.quantize((float) s, 0);
            }
        }
        Agreement g = Agreement.of(y.codes(), want);
        System.out.printf("QMatMul weights: %.4f equal, max %d LSB%n", g.equal(), g.maxDiff());
        assertTrue(g.maxDiff() <= 1, "max " + g.maxDiff());
        assertTrue(g.equal() >= 0.99, "equal " + g.equal());
    }

    @Test
    void matMulPromotesVectors() {
        QuantParams q = QuantParams.perTensor(DType.INT8, 1f, 0);
        QMatMul mm = new QMatMul(q, q, new Requantizer(1.0, RequantMode.FIXED), q, -128, 127);
        QTensor v = new QTensor(new int[] {3}, new int[] {1, 2, 3}, q);
        QTensor mat = new QTensor(new int[] {3, 2}, new int[] {1, 0, 0, 1, 1, 1}, q);
        QTensor y = mm.run(v, mat);
        assertArrayEquals(new int[] {2}, y.shape());
        assertArrayEquals(new int[] {4, 5}, y.codes());
        QTensor dot = mm.run(v, v);
        assertArrayEquals(new int[0], dot.shape());
        assertArrayEquals(new int[] {14}, dot.codes());
    }

    // ---- QSoftmax ----

    private static int[] floatSoftmax(int[] codes, int rows, int len, QuantParams xq, QuantParams yq) {
        int[] y = new int[codes.length];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < len; k++) {
                max = Math.max(max, xq.dequantize(codes[r * len + k], 0));
            }
            double sum = 0;
            double[] e = new double[len];
            for (int k = 0; k < len; k++) {
                e[k] = Math.exp(xq.dequantize(codes[r * len + k], 0) - max);
                sum += e[k];
            }
            for (int k = 0; k < len; k++) {
                y[r * len + k] = (int) yq.quantize((float) (e[k] / sum), 0);
            }
        }
        return y;
    }

    @Test
    void softmaxIsWithinOneLsbOfFloat() {
        Random r = new Random(3);
        int rows = 4 * 144;
        int len = 144;
        for (float s : new float[] {0.02f, 0.08f, 0.3f}) {
            QuantParams xq = QuantParams.perTensor(DType.INT8, s, 10);
            int[] codes = normalCodes(r, rows * len, xq, 40 * s);
            QSoftmax sm = new QSoftmax(xq, INT8_PROB, 13, null, RequantMode.FIXED);
            QTensor y = sm.run(new QTensor(new int[] {4, 144, 144}, codes, xq));
            Agreement g = Agreement.of(y.codes(), floatSoftmax(codes, rows, len, xq, INT8_PROB));
            System.out.printf("QSoftmax s_x=%s: %.5f equal, max %d LSB%n", s, g.equal(), g.maxDiff());
            assertTrue(g.maxDiff() <= 1, "max " + g.maxDiff());
            assertTrue(g.equal() >= 0.995, "equal " + g.equal());
        }
    }

    @Test
    void softmaxRowsFollowTheOpset() {
        QuantParams xq = QuantParams.perTensor(DType.INT8, 0.1f, 0);
        int[] codes = {0, 10, 20, 30, 5, 5};
        QTensor x = new QTensor(new int[] {1, 2, 3}, codes, xq);
        // opset 11, axis 1: one row of all six elements
        int[] coerced =
                new QSoftmax(xq, INT8_PROB, 11, null, RequantMode.FIXED).run(x).codes();
        assertArrayEquals(floatSoftmax(codes, 1, 6, xq, INT8_PROB), coerced);
        // opset 13, axis 1: columns of two
        int[] columns =
                new QSoftmax(xq, INT8_PROB, 13, 1L, RequantMode.FIXED).run(x).codes();
        int[] pairs = floatSoftmax(new int[] {0, 30, 10, 5, 20, 5}, 3, 2, xq, INT8_PROB);
        assertArrayEquals(new int[] {pairs[0], pairs[2], pairs[4], pairs[1], pairs[3], pairs[5]}, columns);
        assertEquals(1L << QSoftmax.TABLE_BITS, new QSoftmax(xq, INT8_PROB, 13, null, RequantMode.FIXED).entry(0));
    }

    // ---- QLayerNorm ----

    @Test
    void layerNormIsWithinOneLsbOfFloat() {
        Random r = new Random(4);
        int h = 128;
        int rows = 144 * 4;
        float[] gamma = new float[h];
        float[] beta = new float[h];
        for (int i = 0; i < h; i++) {
            gamma[i] = (float) (1 + 0.3 * r.nextGaussian());
            beta[i] = (float) (0.2 * r.nextGaussian());
        }
        QuantParams xq = QuantParams.perTensor(DType.INT8, 0.05f, -3);
        QuantParams yq = QuantParams.perTensor(DType.INT8, 0.04f, 2);
        int[] codes = new int[rows * h];
        for (int row = 0; row < rows; row++) {
            double sigma = 0.2 + 2 * r.nextDouble();
            double mu = r.nextGaussian();
            for (int i = 0; i < h; i++) {
                codes[row * h + i] = (int) xq.quantize((float) (mu + sigma * r.nextGaussian()), 0);
            }
        }
        float eps = 1e-5f;
        QLayerNorm ln = new QLayerNorm(gamma, beta, -1, eps, xq, yq, RequantMode.FIXED);
        QTensor y = ln.run(new QTensor(new int[] {1, rows, h}, codes, xq));
        int[] want = new int[codes.length];
        for (int row = 0; row < rows; row++) {
            double mean = 0;
            for (int i = 0; i < h; i++) {
                mean += xq.dequantize(codes[row * h + i], 0);
            }
            mean /= h;
            double var = 0;
            for (int i = 0; i < h; i++) {
                double d = xq.dequantize(codes[row * h + i], 0) - mean;
                var += d * d;
            }
            var /= h;
            for (int i = 0; i < h; i++) {
                double v = (xq.dequantize(codes[row * h + i], 0) - mean) / Math.sqrt(var + eps) * gamma[i] + beta[i];
                want[row * h + i] = (int) yq.quantize((float) v, 0);
            }
        }
        Agreement g = Agreement.of(y.codes(), want);
        System.out.printf("QLayerNorm: %.5f equal, max %d LSB%n", g.equal(), g.maxDiff());
        assertTrue(g.maxDiff() <= 1, "max " + g.maxDiff());
        assertTrue(g.equal() >= 0.99, "equal " + g.equal());
    }

    @Test
    void inverseSquareRootIsAccurateOverTheWholeRange() {
        double worst = 0;
        for (long d : new long[] {1, 2, 3, 4, 5, 7, 100, 12345, 1L << 20, (1L << 31) - 1, 987654321987L, 1L << 50}) {
            QLayerNorm.InvSqrt inv = QLayerNorm.invSqrt(d);
            double got = Math.scalb((double) inv.mantissa(), -(inv.shift() + QLayerNorm.NORM_BITS));
            worst = Math.max(worst, Math.abs(got * Math.sqrt((double) d) - 1));
        }
        System.out.printf("QLayerNorm 1/sqrt: worst relative error %.3g%n", worst);
        assertTrue(worst < 1e-8, "worst " + worst);
        assertEquals(null, QLayerNorm.invSqrt(0));
    }

    @Test
    void layerNormOfAConstantRowIsTheBias() {
        QuantParams xq = QuantParams.perTensor(DType.INT8, 0.1f, 0);
        QuantParams yq = QuantParams.perTensor(DType.INT8, 0.1f, 0);
        QLayerNorm ln = new QLayerNorm(
                new float[] {1f, 2f, 3f, 4f}, new float[] {0.5f, -0.5f, 1f, 0f}, -1, 0f, xq, yq, RequantMode.FIXED);
        int[] y = ln.run(new QTensor(new int[] {1, 4}, new int[] {7, 7, 7, 7}, xq))
                .codes();
        assertEquals(Arrays.toString(new int[] {5, -5, 10, 0}), Arrays.toString(y));
    }
}
