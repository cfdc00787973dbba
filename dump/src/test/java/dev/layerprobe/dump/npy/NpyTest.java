package dev.layerprobe.dump.npy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir
    Path dir;

    /** The bytes numpy 2.x writes for np.save(f, np.zeros((1, 3, 2, 2), np.float32)), header part. */
    @Test
    void headerIsByteExactWithNumpy() {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 2, 2), }";
        byte[] h = Npy.header(DType.FLOAT32, new int[] {1, 3, 2, 2});
        assertEquals(128, h.length);
        assertArrayEquals(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0}, Arrays.copyOf(h, 10));
        String text = new String(h, 10, h.length - 10, StandardCharsets.US_ASCII);
        assertEquals(dict + " ".repeat(128 - 10 - dict.length() - 1) + "\n", text);
    }

    @Test
    void headerShapesFollowPythonTupleSyntax() {
        assertTrue(new String(Npy.header(DType.INT8, new int[] {5}), StandardCharsets.US_ASCII)
                .contains("'descr': '|i1', 'fortran_order': False, 'shape': (5,), }"));
        assertTrue(
                new String(Npy.header(DType.INT16, new int[0]), StandardCharsets.US_ASCII).contains("'shape': (), }"));
        for (int[] s : new int[][] {{7}, {1000, 1000}, {}, {1, 2, 3, 4, 5, 6}}) {
            assertEquals(0, Npy.header(DType.UINT8, s).length % 64, Arrays.toString(s));
        }
    }

    @Test
    void floatRoundTrip() throws IOException {
        Path f = dir.resolve("a.npy");
        float[] data = {0f, -1.5f, 3.25f, Float.MAX_VALUE, Float.MIN_VALUE, -0f, 1e-7f, 42f, 0.1f, 2f, 3f, 4f};
        Npy.write(f, new int[] {1, 3, 2, 2}, data);
        Tensor t = Npy.read(f);
        assertEquals(DType.FLOAT32, t.dtype());
        assertArrayEquals(new int[] {1, 3, 2, 2}, t.shape());
        assertArrayEquals(data, t.floats());
        assertEquals(128 + 48, Files.size(f));
    }

    @Test
    void codeRoundTripForEveryWrittenIntegerType() throws IOException {
        int[][] cases = {{-128, 0, 127}, {0, 128, 255}, {-32768, 1, 32767}, {Integer.MIN_VALUE, 0, Integer.MAX_VALUE}};
        DType[] types = {DType.INT8, DType.UINT8, DType.INT16, DType.INT32};
        for (int i = 0; i < types.length; i++) {
            Path f = dir.resolve(types[i] + ".npy");
            Npy.write(f, types[i], new int[] {3}, cases[i]);
            Tensor t = Npy.read(f);
            assertEquals(types[i], t.dtype());
            assertArrayEquals(Arrays.stream(cases[i]).asLongStream().toArray(), t.longs());
        }
    }

    @Test
    void codesOutOfRangeAreRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Npy.write(dir.resolve("x.npy"), DType.INT8, new int[] {2}, new int[] {1, 200}));
        assertTrue(e.getMessage().contains("200"), e.getMessage());
    }

    @Test
    void readsFloat64AndInt64AndVersion2Files() throws IOException {
        // A hand-made version 2.0 file (4-byte header length) holding float64 [1.5, -2].
        String dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
        int prefix = 12;
        int total = (prefix + dict.length() + 1 + 63) / 64 * 64;
        ByteBuffer b = ByteBuffer.allocate(total + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.put(Npy.MAGIC).put((byte) 2).put((byte) 0).putInt(total - prefix);
        b.put(dict.getBytes(StandardCharsets.US_ASCII));
        while (b.position() < total - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n').putDouble(1.5).putDouble(-2);
        Path f = dir.resolve("v2.npy");
        Files.write(f, b.array());
        Tensor t = Npy.read(f);
        assertEquals(DType.FLOAT32, t.dtype());
        assertArrayEquals(new float[] {1.5f, -2f}, t.floats());

        Path g = dir.resolve("i64.npy");
        Npy.write(g, Tensor.ofLongs(DType.INT64, new int[] {2}, new long[] {1L << 40, -3}));
        assertArrayEquals(new long[] {1L << 40, -3}, Npy.read(g).longs());
    }

    @Test
    void streamingWriterMatchesOneShotWriterAndChecksLength() throws IOException {
        float[] data = new float[100];
        for (int i = 0; i < data.length; i++) {
            data[i] = i * 0.5f;
        }
        Path one = dir.resolve("one.npy");
        Npy.write(one, new int[] {10, 10}, data);
        Path streamed = dir.resolve("streamed.npy");
        NpyWriter w = NpyWriter.open(streamed, "<f4", new int[] {10, 10});
        byte[] all = dev.layerprobe.dump.npy.TensorBytes.encodeFloats(data, 0, data.length);
        w.write(all, 0, 150);
        w.write(Arrays.copyOfRange(all, 150, 400));
        w.close();
        String sha = w.sha256();
        assertArrayEquals(Files.readAllBytes(one), Files.readAllBytes(streamed));
        assertEquals(64, sha.length());

        NpyWriter shortWriter = NpyWriter.open(dir.resolve("short.npy"), DType.FLOAT32, new int[] {4});
        shortWriter.write(new byte[8]);
        IOException e = assertThrows(IOException.class, shortWriter::close);
        assertTrue(e.getMessage().contains("8 of 16"), e.getMessage());
    }

    @Test
    void badFilesGiveMessagesNamingTheFile() throws IOException {
        Path f = dir.resolve("bad.npy");
        Files.writeString(f, "not numpy at all");
        IOException e = assertThrows(IOException.class, () -> Npy.read(f));
        assertTrue(e.getMessage().contains("bad.npy") && e.getMessage().contains("magic"), e.getMessage());

        Path fortran = dir.resolve("fortran.npy");
        byte[] h = Npy.header(DType.FLOAT32, new int[] {2, 2});
        String s = new String(h, StandardCharsets.ISO_8859_1).replace("False", "True ");
        Files.write(fortran, s.getBytes(StandardCharsets.ISO_8859_1));
        e = assertThrows(IOException.class, () -> Npy.read(fortran));
        assertTrue(e.getMessage().contains("Fortran"), e.getMessage());

        e = assertThrows(IOException.class, () -> Npy.read(dir.resolve("missing.npy")));
        assertTrue(e.getMessage().contains("missing.npy"), e.getMessage());
    }
}
