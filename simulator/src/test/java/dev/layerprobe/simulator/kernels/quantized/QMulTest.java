package dev.layerprobe.simulator.kernels.quantized;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.profile.RequantMode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Integer Mul with broadcasting (an SE block's channel scale) against the real-valued product. */
class QMulTest {
    @Test
    void channelScaleMatchesTheRealProductWithinOneLsb() {
        QuantParams qa = QuantParams.perTensor(DType.INT8, 0.05f, -3);
        QuantParams qb = QuantParams.perTensor(DType.INT8, 1f / 255, -128);
        QuantParams qy = QuantParams.perTensor(DType.INT8, 0.04f, 5);
        SplittableRandom r = new SplittableRandom(7);
        int[] a = new int[2 * 3 * 4 * 5];
        int[] b = new int[2 * 3];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextInt(-128, 128);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = r.nextInt(-128, 128);
        }
        QTensor ta = new QTensor(new int[] {2, 3, 4, 5}, a, qa);
        QTensor tb = new QTensor(new int[] {2, 3, 1, 1}, b, qb);
        for (RequantMode mode : RequantMode.values()) {
            QTensor y = new QMul(qa, qb, qy, mode, -128, 127).run(ta, tb);
            assertArrayEquals(new int[] {2, 3, 4, 5}, y.shape());
            for (int i = 0; i < a.length; i++) {
                double real = qa.dequantize(a[i], 0) * (double) qb.dequantize(b[i / 20], 0);
                long want = Math.max(-128, Math.min(127, Math.round(real / qy.scale(0)) + 5));
                assertTrue(
                        Math.abs(y.codes()[i] - want) <= 1,
                        mode + " element " + i + ": " + y.codes()[i] + " vs " + want);
            }
        }
    }
}
