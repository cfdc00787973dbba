package dev.layerprobe.agent.service;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DumpFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class LayerPayloadTest {
    @Test
    void int8CodesAreOneSignedByteEach() {
        LayerValue v = LayerValue.of(
                new QTensor(new int[] {4}, new int[] {-128, -1, 0, 127}, QuantParams.perTensor(DType.INT8, 0.5f, 3)));

        LayerPayload p = LayerPayload.of(v, DumpFormat.NATIVE);

        assertEquals(DataType.INT8, p.dtype());
        assertEquals(4, p.sizeBytes());
        assertArrayEquals(new byte[] {-128, -1, 0, 127}, p.chunk(0, 4).toByteArray());
        assertEquals(List.of(0.5f), p.quant().getScaleList());
        assertEquals(List.of(3L), p.quant().getZeroPointList());
    }

    @Test
    void uint8AndInt16CodesAreLittleEndianInTheirWidth() {
        LayerValue u8 = LayerValue.of(
                new QTensor(new int[] {2}, new int[] {200, 255}, QuantParams.perTensor(DType.UINT8, 1f, 128)));
        LayerValue i16 = LayerValue.of(
                new QTensor(new int[] {2}, new int[] {0x1234, -2}, QuantParams.perTensor(DType.INT16, 1f, 0)));

        assertArrayEquals(
                new byte[] {(byte) 200, (byte) 255},
                LayerPayload.of(u8, DumpFormat.NATIVE).chunk(0, 2).toByteArray());
        LayerPayload p = LayerPayload.of(i16, DumpFormat.NATIVE);
        assertEquals(DataType.INT16, p.dtype());
        assertArrayEquals(
                new byte[] {0x34, 0x12, (byte) 0xfe, (byte) 0xff}, p.chunk(0, 2).toByteArray());
    }

    @Test
    void floatFormatDequantizes() {
        LayerValue v =
                LayerValue.of(new QTensor(new int[] {2}, new int[] {5, 7}, QuantParams.perTensor(DType.INT8, 0.5f, 3)));

        LayerPayload p = LayerPayload.of(v, DumpFormat.FLOAT);

        assertEquals(DataType.FLOAT32, p.dtype());
        assertNull(p.quant());
        assertArrayEquals(
                new float[] {1f, 2f},
                DeviceAgentServiceTest.floats(p.chunk(0, 2).toByteArray()));
    }

    @Test
    void codesWithoutAWireTypeFallBackToFloat() {
        LayerValue v =
                LayerValue.of(new QTensor(new int[] {1}, new int[] {10}, QuantParams.perTensor(DType.UINT16, 2f, 0)));

        LayerPayload p = LayerPayload.of(v, DumpFormat.NATIVE);

        assertEquals(DataType.FLOAT32, p.dtype());
        assertArrayEquals(
                new float[] {20f}, DeviceAgentServiceTest.floats(p.chunk(0, 1).toByteArray()));
    }

    @Test
    void chunksAreClippedToTheLayer() {
        LayerPayload p = LayerPayload.of(
                LayerValue.of(Tensor.ofFloats(new int[] {3}, new float[] {1, 2, 3})), DumpFormat.NATIVE);

        assertEquals(8, p.chunk(1, 100).size());
        assertEquals(0, p.chunk(3, 100).size());
    }

    @Test
    void chunkSizesAreClampedAndAligned() {
        assertEquals(1 << 20, RunJob.chunkBytes(0));
        assertEquals(4 << 10, RunJob.chunkBytes(1));
        assertEquals(4 << 20, RunJob.chunkBytes(Integer.MAX_VALUE));
        assertEquals(5000, RunJob.chunkBytes(5003));
    }
}
