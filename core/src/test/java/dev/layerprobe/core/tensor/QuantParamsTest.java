package dev.layerprobe.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** QuantizeLinear's rule as ONNX's reference and ONNX Runtime apply it: float32 quotient, ties to even, saturate. */
class QuantParamsTest {

    @Test
    void quotientIsRoundedInFloat32BeforeTiesToEven() {
        float x = 0.8446728f;
        float s = 0.08891293f;
        // The float32 quotient is the tie 9.5 (-> 10); the exact one is just below it (-> 9).
        assertEquals(9.5f, x / s);
        assertEquals(9.0, Math.rint((double) x / s));
        assertEquals(10, QuantParams.perTensor(DType.INT8, s, 0).quantize(x, 0));
        assertEquals(-10, QuantParams.perTensor(DType.INT8, s, 0).quantize(-x, 0));
    }

    @Test
    void exactTiesGoToEvenAndResultsSaturate() {
        QuantParams q = QuantParams.perTensor(DType.UINT8, 2f, 128);
        assertEquals(128, q.quantize(1f, 0));
        assertEquals(130, q.quantize(3f, 0));
        assertEquals(130, q.quantize(5f, 0));
        assertEquals(126, q.quantize(-3f, 0));
        assertEquals(255, q.quantize(1000f, 0));
        assertEquals(0, q.quantize(-1000f, 0));
    }
}
