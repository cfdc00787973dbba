package dev.layerprobe.simulator.kernels.quantized;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.profile.RequantMode;
import org.junit.jupiter.api.Test;

/** softmax_no_max_subtract: the exponent of raw codes saturates, so the large logits share evenly. */
class QSoftmaxFaultTest {
    private static final QuantParams IN = QuantParams.perTensor(DType.INT8, 0.2f, 0);
    private static final QuantParams OUT = QuantParams.perTensor(DType.UINT8, 1f / 256, 0);

    @Test
    void largeLogitsSaturateToOneShare() {
        QTensor x = new QTensor(new int[] {1, 4}, new int[] {127, 120, 100, 0}, IN);
        int[] healthy =
                new QSoftmax(IN, OUT, 13, null, RequantMode.FIXED).run(x).codes();
        int[] faulty =
                new QSoftmax(IN, OUT, 13, null, RequantMode.FIXED, true).run(x).codes();
        // exp(0.2 * 100) * 2^16 is beyond 2^31: the three large logits get the same entry.
        assertEquals(faulty[0], faulty[1]);
        assertEquals(faulty[1], faulty[2]);
        assertEquals(85, faulty[0], "a third of 256 codes each");
        assertTrue(healthy[0] > 150 && healthy[1] < 60 && healthy[2] < 5, "healthy: the largest logit takes most");
    }

    @Test
    void smallLogitsAreUnharmed() {
        // Below ln(2^15) / s_x no entry saturates: the result is the healthy Softmax within a code.
        QTensor x = new QTensor(new int[] {1, 4}, new int[] {10, 5, 0, -20}, IN);
        int[] healthy =
                new QSoftmax(IN, OUT, 13, null, RequantMode.FIXED).run(x).codes();
        int[] faulty =
                new QSoftmax(IN, OUT, 13, null, RequantMode.FIXED, true).run(x).codes();
        for (int i = 0; i < 4; i++) {
            assertTrue(Math.abs(healthy[i] - faulty[i]) <= 1, i + ": " + healthy[i] + " vs " + faulty[i]);
        }
    }
}
