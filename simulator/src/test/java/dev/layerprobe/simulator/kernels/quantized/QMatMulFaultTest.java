package dev.layerprobe.simulator.kernels.quantized;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.profile.RequantMode;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * matmul_transpose_b: the faulty kernel equals the healthy one run on B reinterpreted (element
 * {@code (k, n)} of each matrix taken from offset {@code n * K + k}), for K ≠ N, for a constant
 * weight with its fused bias and for two activations with broadcast batches, and it differs from
 * the healthy output.
 */
class QMatMulFaultTest {
    private static final QuantParams ONE = QuantParams.perTensor(DType.INT8, 1f, 0);

    /** The buffer of B reinterpreted per matrix, written out here independently of the kernel. */
    private static int[] reinterpreted(int[] codes, int matrices, int k, int n) {
        int[] b = new int[codes.length];
        for (int mat = 0; mat < matrices; mat++) {
            for (int t = 0; t < k; t++) {
                for (int j = 0; j < n; j++) {
                    b[mat * k * n + t * n + j] = codes[mat * k * n + j * k + t];
                }
            }
        }
        return b;
    }

    private static int[] random(Random r, int size, int lo, int hi) {
        int[] c = new int[size];
        for (int i = 0; i < size; i++) {
            c[i] = lo + r.nextInt(hi - lo + 1);
        }
        return c;
    }

    @Test
    void aTwoByThreeBufferIsReadAsItsTranspose() {
        // B = [[1, 2, 3], [4, 5, 6]] (K = 2, N = 3) stored 1 2 3 4 5 6; read transposed it is
        // [[1, 3, 5], [2, 4, 6]]: rows of the identity pick those rows out.
        QMatMul faulty = new QMatMul(ONE, ONE, new Requantizer(1.0, RequantMode.FIXED), ONE, -128, 127, true);
        QTensor a = new QTensor(new int[] {2, 2}, new int[] {1, 0, 0, 1}, ONE);
        QTensor b = new QTensor(new int[] {2, 3}, new int[] {1, 2, 3, 4, 5, 6}, ONE);
        assertArrayEquals(new int[] {1, 3, 5, 2, 4, 6}, faulty.run(a, b).codes());
        QTensor w = new QTensor(new int[] {2, 3}, new int[] {1, 2, 3, 4, 5, 6}, ONE);
        Requantizer[] unit = {new Requantizer(1.0, RequantMode.FIXED)};
        QMatMul constant = new QMatMul(ONE, w, new long[] {10, 20, 30}, unit, ONE, -128, 127, true);
        assertArrayEquals(new int[] {11, 23, 35, 12, 24, 36}, constant.run(a).codes(), "bias per output column");
    }

    @Test
    void constantWeightWithFusedBiasEqualsTheReinterpretedWeight() {
        Random r = new Random(3);
        int m = 9;
        int k = 12;
        int n = 5;
        QuantParams aq = QuantParams.perTensor(DType.INT8, 0.03f, -4);
        float[] ws = new float[n];
        Requantizer[] rq = new Requantizer[n];
        long[] bias = new long[n];
        QuantParams yq = QuantParams.perTensor(DType.INT8, 0.05f, 2);
        for (int j = 0; j < n; j++) {
            ws[j] = 0.004f * (1 + j);
            rq[j] = new Requantizer((double) aq.scale(0) * ws[j] / yq.scale(0), RequantMode.FIXED);
            bias[j] = r.nextInt(2001) - 1000L;
        }
        QuantParams wq = new QuantParams(DType.INT8, ws, new long[n], 1);
        int[] wc = random(r, k * n, -127, 127);
        QTensor a = new QTensor(new int[] {m, k}, random(r, m * k, -128, 127), aq);
        int lo = (int) yq.qmin();
        int hi = (int) yq.qmax();
        int[] faulty = new QMatMul(aq, new QTensor(new int[] {k, n}, wc, wq), bias, rq, yq, lo, hi, true)
                .run(a)
                .codes();
        int[] reference = new QMatMul(
                        aq, new QTensor(new int[] {k, n}, reinterpreted(wc, 1, k, n), wq), bias, rq, yq, lo, hi)
                .run(a)
                .codes();
        int[] healthy = new QMatMul(aq, new QTensor(new int[] {k, n}, wc, wq), bias, rq, yq, lo, hi)
                .run(a)
                .codes();
        assertArrayEquals(reference, faulty);
        assertFalse(Arrays.equals(healthy, faulty), "the fault must change the output");
    }

    @Test
    void twoActivationsWithBroadcastBatchesEqualTheReinterpretedOperand() {
        Random r = new Random(4);
        QuantParams aq = QuantParams.perTensor(DType.INT8, 0.05f, 3);
        QuantParams bq = QuantParams.perTensor(DType.INT8, 0.04f, -7);
        QuantParams yq = QuantParams.perTensor(DType.INT8, 0.6f, -2);
        int k = 16;
        int n = 7;
        // A [2, 3, 5, K] by B [3, K, N]: B's three matrices each reinterpreted, then broadcast.
        QTensor a = new QTensor(new int[] {2, 3, 5, k}, random(r, 2 * 3 * 5 * k, -128, 127), aq);
        int[] bc = random(r, 3 * k * n, -128, 127);
        Requantizer rq = new Requantizer((double) aq.scale(0) * bq.scale(0) / yq.scale(0), RequantMode.FIXED);
        QMatMul faulty = new QMatMul(aq, bq, rq, yq, yq.qmin(), yq.qmax(), true);
        QMatMul healthy = new QMatMul(aq, bq, rq, yq, yq.qmin(), yq.qmax());
        int[] bs = {3, k, n};
        int[] got = faulty.run(a, new QTensor(bs, bc, bq)).codes();
        int[] reference =
                healthy.run(a, new QTensor(bs, reinterpreted(bc, 3, k, n), bq)).codes();
        assertArrayEquals(reference, got);
        assertFalse(Arrays.equals(healthy.run(a, new QTensor(bs, bc, bq)).codes(), got), "the fault must change it");
    }

    @Test
    void aVectorOperandReadsTheSame() {
        // K x 1: one column, whose transposed read is the same buffer.
        QMatMul faulty = new QMatMul(ONE, ONE, new Requantizer(1.0, RequantMode.FIXED), ONE, -128, 127, true);
        QTensor a = new QTensor(new int[] {1, 3}, new int[] {1, 2, 3}, ONE);
        assertArrayEquals(
                new int[] {14},
                faulty.run(a, new QTensor(new int[] {3}, new int[] {1, 2, 3}, ONE))
                        .codes());
    }
}
