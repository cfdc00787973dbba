package dev.layerprobe.dump;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.dump.npy.TensorBytes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DumpWriterTest {
    @TempDir
    Path dir;

    @Test
    void writesLayersIncrementallyAndReadsThemBack() throws Exception {
        Path d = dir.resolve("dump");
        float[] conv = {0.5f, -1f, 2f, 0f};
        int[] codes = {-128, 0, 5, 127, 1, 2};
        QuantParams q = QuantParams.perTensor(DType.INT8, 0.25f, 3);
        try (DumpWriter w = DumpWriter.create(d, "tiny.onnx", "runtime", false)) {
            w.beginLayer("/conv1/Conv_output_0", "Conv", new int[] {1, 1, 2, 2}, DType.FLOAT32, null);
            byte[] bytes = TensorBytes.encodeFloats(conv, 0, 4);
            w.write(bytes, 0, 6);
            w.write(Arrays.copyOfRange(bytes, 6, 16));
            DumpManifest.Layer first = w.endLayer();
            assertEquals("0000__conv1_Conv_output_0.npy", first.file());
            assertEquals(sha256(bytes), first.sha256());

            // The manifest already lists the first layer while the second is being written.
            w.beginLayer("relu", "Relu", new int[] {2, 3}, DType.INT8, q);
            assertEquals(
                    1,
                    new ObjectMapper()
                            .readTree(d.resolve("manifest.json").toFile())
                            .get("layers")
                            .size());
            w.writeCodes(codes, 0, 6);
            w.endLayer();
        }

        JsonNode m = new ObjectMapper().readTree(d.resolve("manifest.json").toFile());
        assertTrue(m.get("complete").asBoolean());
        assertEquals("tiny.onnx", m.get("model").asText());
        JsonNode l1 = m.get("layers").get(1);
        assertEquals("relu", l1.get("name").asText());
        assertEquals("Relu", l1.get("op").asText());
        assertEquals("int8", l1.get("dtype").asText());
        assertEquals(0.25, l1.get("scale").get(0).asDouble());
        assertEquals(3, l1.get("zero_point").get(0).asLong());
        assertEquals("0001_relu.npy", l1.get("file").asText());
        assertEquals("[2,3]", l1.get("shape").toString());
        assertTrue(m.get("layers").get(0).get("scale").isNull());

        DumpReader r = DumpReader.open(d);
        assertEquals(2, r.layers().size());
        LayerValue f = r.read("/conv1/Conv_output_0");
        assertFalse(f.isQuantized());
        assertArrayEquals(conv, f.real().floats());
        LayerValue c = r.read("relu");
        assertTrue(c.isQuantized());
        assertArrayEquals(codes, c.codes().codes());
        assertTrue(c.codes().params().sameMapping(q));
        for (DumpManifest.Layer l : r.layers()) {
            assertTrue(r.verify(l), l.name());
        }
        // Each file is a plain .npy that numpy loads.
        Path relu = d.resolve("0001_relu.npy");
        assertArrayEquals(new long[] {-128, 0, 5, 127, 1, 2}, Npy.read(relu).longs());
        byte[] corrupt = Files.readAllBytes(relu);
        corrupt[corrupt.length - 1] ^= 1;
        Files.write(relu, corrupt);
        assertFalse(r.verify(r.layer("relu")));
    }

    @Test
    void anAbortedLayerLeavesAValidManifestOfCompleteLayers() throws IOException {
        Path d = dir.resolve("crash");
        DumpWriter w = DumpWriter.create(d, null, null, false);
        w.writeLayer("a", "Relu", LayerValue.of(Tensor.ofFloats(new int[] {2}, new float[] {1, 2})));
        w.beginLayer("b", "Add", new int[] {4}, DType.FLOAT32, null);
        w.writeFloats(new float[] {1}, 0, 1);
        // No endLayer: simulate the process dying here; the manifest on disk lists only "a".
        DumpReader r = DumpReader.open(d);
        assertEquals(1, r.layers().size());
        assertFalse(r.manifest().complete());
        w.close();
        assertFalse(DumpReader.open(d).manifest().complete());
        assertFalse(Files.exists(d.resolve("0001_b.npy")));
    }

    @Test
    void shortLayersAndDuplicateNamesAreRefused() throws IOException {
        try (DumpWriter w = DumpWriter.create(dir.resolve("x"), null, null, false)) {
            w.beginLayer("a", "Relu", new int[] {2}, DType.FLOAT32, null);
            w.writeFloats(new float[] {1}, 0, 1);
            IOException e = assertThrows(IOException.class, w::endLayer);
            assertTrue(e.getMessage().contains("only 4 of 8"), e.getMessage());
            w.writeLayer("b", "Relu", LayerValue.of(Tensor.ofFloats(new int[] {1}, new float[] {1})));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> w.beginLayer("b", "Relu", new int[] {1}, DType.FLOAT32, null));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> w.beginLayer(
                            "c", "Relu", new int[] {1}, DType.FLOAT32, QuantParams.perTensor(DType.INT8, 1f, 0)));
        }
        IOException e = assertThrows(IOException.class, () -> DumpWriter.create(dir.resolve("x"), null, null, false));
        assertTrue(e.getMessage().contains("already holds a dump"), e.getMessage());
        DumpWriter.create(dir.resolve("x"), null, null, true).close();
        assertEquals(0, DumpReader.open(dir.resolve("x")).layers().size());
    }

    @Test
    void fileNamesAreSafeAndUnique() {
        assertEquals("0003_conv1_output.npy", DumpWriter.fileName(3, "conv1_output"));
        assertEquals("0000__a_b_c_d.npy", DumpWriter.fileName(0, "/a:b c\\d"));
        assertEquals("0001__hidden.npy", DumpWriter.fileName(1, ".hidden"));
        assertTrue(DumpWriter.fileName(2, "x".repeat(500)).length() < 110);
    }

    @Test
    void readsPlainNpyFolders() throws IOException {
        Path d = dir.resolve("plain");
        Files.createDirectories(d);
        Npy.write(d.resolve("b.npy"), new int[] {1}, new float[] {2});
        Npy.write(d.resolve("a.npy"), new int[] {1}, new float[] {1});
        DumpReader r = DumpReader.open(d);
        assertEquals("a", r.layers().get(0).name());
        assertNull(r.layers().get(0).sha256());
        assertEquals(2f, r.read("b").real().floats()[0]);
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
