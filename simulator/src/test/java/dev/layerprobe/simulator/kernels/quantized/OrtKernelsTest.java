package dev.layerprobe.simulator.kernels.quantized;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
