package dev.layerprobe.core.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class ChannelsTest {
    @Test
    void reversesAxisOneOfEveryBatchItem() {
        Tensor t = Tensor.ofFloats(new int[] {2, 3, 1, 2}, new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
        assertArrayEquals(
                new float[] {4, 5, 2, 3, 0, 1, 10, 11, 8, 9, 6, 7},
                Channels.reverse(t).floats());
    }

    @Test
    void codesStayCodesWithTheirQuantization() {
        QuantParams q = QuantParams.perTensor(DType.INT8, 0.5f, 3);
        QTensor codes = new QTensor(new int[] {1, 2, 2}, new int[] {1, 2, 3, 4}, q);
        QTensor r = Channels.reverse(LayerValue.of(codes)).codes();
        assertArrayEquals(new int[] {3, 4, 1, 2}, r.codes());
        assertSame(q, r.params());
    }
}
