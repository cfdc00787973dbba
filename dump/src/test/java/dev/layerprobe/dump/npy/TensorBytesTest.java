package dev.layerprobe.dump.npy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

class TensorBytesTest {
    @Test
    void floatsAreLittleEndian() {
        byte[] b = TensorBytes.encodeFloats(new float[] {1f}, 0, 1);
        assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3f}, b);
        float[] out = new float[1];
        assertEquals(1, TensorBytes.decodeFloats(b, 0, 4, out, 0));
        assertEquals(1f, out[0]);
    }

    @Test
    void codesRoundTripWithSignAndWidth() {
        int[] codes = {-2, 300, -32768};
        byte[] b = TensorBytes.encodeCodes(DType.INT16, codes, 0, 3);
        assertArrayEquals(new byte[] {(byte) 0xfe, (byte) 0xff, 0x2c, 0x01, 0x00, (byte) 0x80}, b);
        int[] out = new int[3];
        TensorBytes.decodeCodes(DType.INT16, b, 0, b.length, out, 0);
        assertArrayEquals(codes, out);
        int[] u = new int[1];
        TensorBytes.decodeCodes(DType.UINT8, new byte[] {(byte) 0xff}, 0, 1, u, 0);
        assertEquals(255, u[0]);
    }

    @Test
    void decodeChecksTheByteCount() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> TensorBytes.decode(DType.FLOAT32, new int[] {2, 2}, new byte[12]));
        assertEquals("12 bytes do not hold a FLOAT32 tensor of shape [2, 2] (16 bytes)", e.getMessage());
    }

    @Test
    void encodeTensorAsItsIntegerType() {
        Tensor t = Tensor.ofLongs(DType.UINT8, new int[] {2}, new long[] {0, 255});
        Tensor back = TensorBytes.decode(DType.UINT8, new int[] {2}, TensorBytes.encode(t, DType.UINT8));
        assertArrayEquals(new long[] {0, 255}, back.longs());
        assertThrows(IllegalArgumentException.class, () -> TensorBytes.encode(t, DType.INT8));
    }
}
