package dev.layerprobe.simulator.kernels.quantized;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import org.junit.jupiter.api.Test;

/**
 * The arithmetic of the kernels that reproduce ONNX Runtime's in {@code requant: float} mode, on
 * values chosen so that another order or rounding gives another result. (Whole layers are checked
 * against ONNX Runtime itself in the host's {@code OrtOpCrossCheckTest}.)
 */
class OrtKernelsTest {
    private static final float TWO_24 = 16_777_216f;

    @Test
    void sgemmStrideKFollowsMlas() {
        assertEquals(32, OrtSgemm.strideK(12_544, 27), "K small against N: halved while K fits");
        assertEquals(128, OrtSgemm.strideK(3_136, 144));
        assertEquals(256, OrtSgemm.strideK(49, 1_280), "N small: doubled while N fits in half the N slice");
        assertEquals(128, OrtSgemm.strideK(196, 576));
    }

    @Test
    void sgemmSumsEachSliceFromZeroThenAddsTheSlices() {
        float[] a = {1, 1, 1, 1};
        float[] b = {TWO_24, 1, 1, -TWO_24};
        float[] c = new float[1];
        // One chain: 2^24 + 1 rounds back to 2^24 (twice), then - 2^24 gives 0.
        OrtSgemm.row(a, 0, 1, b, 0, 1, 4, 1, 4, c, 0, new float[1]);
        assertEquals(0f, c[0]);
        // Two slices: (2^24 + 1 -> 2^24) + (1 - 2^24) = 1.
        OrtSgemm.row(a, 0, 1, b, 0, 1, 4, 1, 2, c, 0, new float[1]);
        assertEquals(1f, c[0]);
    }

    @Test
    void sgemmFusesEachMultiplyAdd() {
        float e = 1f + 0x1p-12f;
        // -1 + e * e with one rounding: 2^-11 + 2^-24; a rounded product first would give 2^-11.
        float[] c = new float[1];
        OrtSgemm.row(new float[] {1, e}, 0, 1, new float[] {-1, e}, 0, 1, 2, 1, 128, c, 0, new float[1]);
        assertEquals(0x1p-11f + 0x1p-24f, c[0]);
    }

    @Test
    void sgemmRowReadsStridedAAndRowMajorB() {
        // A's row taken every 2nd element: [1, 2, 3]; B is 3 x 2.
        float[] a = {1, 9, 2, 9, 3};
        float[] b = {1, 10, 2, 20, 3, 30};
        float[] c = new float[3];
        OrtSgemm.row(a, 0, 2, b, 0, 2, 3, 2, 128, c, 1, new float[2]);
        assertArrayEquals(new float[] {0, 14, 140}, c);
    }

    @Test
    void floatMatMulUsesPackedSlicesOf256() {
        // K = 258: products 2^24, then 255 ones, then 1 and -2^24 in the second slice of 256. One
        // chain would lose every 1 (0); with the packed slices the first slice is 2^24 and the
        // second is 1 - 2^24, so the sum is 1. The codes are the values with scale 1.
        int k = 258;
        float[] b = new float[k];
        java.util.Arrays.fill(b, 1f);
        b[0] = TWO_24;
        b[k - 1] = -TWO_24;
        QuantParams in = QuantParams.perTensor(DType.INT8, 1f, 0);
        QuantParams out = QuantParams.perTensor(DType.INT8, 1f, 0);
        int[] ones = new int[k];
        java.util.Arrays.fill(ones, 1);
        QTensor y = new OrtFloatMatMul(b, k, 1, in, out).run(new QTensor(new int[] {1, k}, ones, in));
        assertArrayEquals(new int[] {1}, y.codes());
        assertArrayEquals(new int[] {1, 1}, y.shape());
    }

    @Test
    void qlinearMatMulIsExactIntegersThenFloatRequantTiesToEven() {
        // s_a * s_b / s_y = 0.5: accumulators 1, 3, 5, 7 fall on ties, rounded to even.
        QuantParams aq = QuantParams.perTensor(DType.UINT8, 0.5f, 10);
        QuantParams bq = QuantParams.perTensor(DType.UINT8, 1f, 100);
        QuantParams yq = QuantParams.perTensor(DType.UINT8, 1f, 128);
        OrtQLinearMatMul mm = new OrtQLinearMatMul(aq, bq, yq);
        // A - zp = [[1, 2], [3, -1]]; B - zp = [[1, 3], [0, 2]]: acc = [[1, 7], [3, 7]].
        QTensor a = new QTensor(new int[] {2, 2}, new int[] {11, 12, 13, 9}, aq);
        QTensor b = new QTensor(new int[] {2, 2}, new int[] {101, 103, 100, 102}, bq);
        QTensor y = mm.run(a, b);
        assertArrayEquals(new int[] {128, 132, 130, 132}, y.codes());
    }

    @Test
    void qlinearMatMulBroadcastsBatchesAndDropsPromotedDimensions() {
        QuantParams q = QuantParams.perTensor(DType.INT8, 1f, 0);
        OrtQLinearMatMul mm = new OrtQLinearMatMul(q, q, q);
        // A [2, 1, 2] by B [2, 1]: B shared by both batches.
        QTensor a = new QTensor(new int[] {2, 1, 2}, new int[] {1, 2, 3, 4}, q);
        QTensor b = new QTensor(new int[] {2, 1}, new int[] {5, 6}, q);
        QTensor y = mm.run(a, b);
        assertArrayEquals(new int[] {2, 1, 1}, y.shape());
        assertArrayEquals(new int[] {17, 39}, y.codes());
        // A 1-D: [2] by [2, 1] is [1]; saturated to int8.
        QTensor v = mm.run(new QTensor(new int[] {2}, new int[] {100, 100}, q), b);
        assertArrayEquals(new int[] {1}, v.shape());
        assertArrayEquals(new int[] {127}, v.codes());
    }

    @Test
    void layerNormTakesTheVarianceAsMeanSquareMinusSquaredMeanInFloat() {
        // x = 20.5, 20.9, 20.7, 21.0: the float32 sums give mean 20.775002 and sd 0.19445123, so
        // the first value is -90.51 output steps, code -91; the two-pass variance in double makes
        // it -90 (both computed outside Java; the float32 arithmetic is ONNX Runtime 1.23.2's).
        QuantParams in = QuantParams.perTensor(DType.UINT8, 0.1f, 0);
        QuantParams out = QuantParams.perTensor(DType.INT8, 1f / 64, 0);
        int[] codes = {205, 209, 207, 210};
        OrtFloatLayerNorm ln = new OrtFloatLayerNorm(new float[] {1, 1, 1, 1}, null, -1, 0x1p-10f, in, out);
        assertArrayEquals(
                new int[] {-91, 41, -25, 74},
                ln.run(new QTensor(new int[] {1, 4}, codes, in)).codes());
        // Scale and bias per element, axis 1 of [1, 4]: y * [1, 2, 1, 1] + [0, 0, 0, 0.5].
        OrtFloatLayerNorm scaled =
                new OrtFloatLayerNorm(new float[] {1, 2, 1, 1}, new float[] {0, 0, 0, 0.5f}, 1, 0x1p-10f, in, out);
        assertArrayEquals(
                new int[] {-91, 82, -25, 106},
                scaled.run(new QTensor(new int[] {1, 4}, codes, in)).codes());
    }
}
