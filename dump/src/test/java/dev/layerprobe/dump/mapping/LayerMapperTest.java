package dev.layerprobe.dump.mapping;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.dump.layout.DumpedLayer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each mapping pass, channels-last detection and conversion, and what stays unmapped. */
class LayerMapperTest {
    static final List<MappingTarget> TARGETS = List.of(
            new MappingTarget("/backbone/conv1/Conv_output_0", "Conv", new int[] {1, 8, 4, 4}),
            new MappingTarget("/backbone/relu/Relu_output_0", "Relu", new int[] {1, 8, 4, 4}),
            new MappingTarget("/head/DepthToSpace_output_0", "DepthToSpace", new int[] {1, 2, 8, 8}),
            new MappingTarget("out", "Conv", new int[] {1, 3, 8, 8}));

    @Test
    void mapsByFileExactSanitisedThenOrderAndListsTheRest() {
        List<DumpedLayer> dump = List.of(
                new DumpedLayer(0, "_backbone_conv1_Conv_output_0", "ConvClip", new int[] {1, 4, 4, 8}, false, "a"),
                new DumpedLayer(1, "fused_7", "Relu", new int[] {1, 8, 4, 4}, false, "b"),
                new DumpedLayer(2, "d2s", null, null, false, "c"),
                new DumpedLayer(3, "debug_softmax", "Softmax", new int[] {1, 10}, false, "d"),
                new DumpedLayer(4, "out", "Conv", new int[] {1, 3, 8, 8}, false, "e"));
        LayerMapping m = LayerMapper.map(dump, TARGETS, Map.of("d2s", "/head/DepthToSpace_output_0"));
        Map<String, LayerMapping.Entry> by = m.byTarget();
        assertEquals(
                LayerMapping.Method.SANITISED,
                by.get("/backbone/conv1/Conv_output_0").method());
        assertTrue(by.get("/backbone/conv1/Conv_output_0").nhwc(), "1x4x4x8 is the NHWC form of 1x8x4x4");
        assertEquals("fused_7", by.get("/backbone/relu/Relu_output_0").from().name());
        assertEquals(
                LayerMapping.Method.ORDER,
                by.get("/backbone/relu/Relu_output_0").method());
        assertEquals(
                LayerMapping.Method.FILE, by.get("/head/DepthToSpace_output_0").method());
        assertEquals(LayerMapping.Method.EXACT, by.get("out").method());
        assertFalse(by.get("out").nhwc());
        assertEquals(
                List.of("debug_softmax"),
                m.unmappedDump().stream().map(DumpedLayer::name).toList());
        assertTrue(m.unmatchedTargets().isEmpty());
        assertTrue(by.get("/backbone/conv1/Conv_output_0").describe().contains("sanitised name, NHWC->NCHW"));
    }

    @Test
    void orderPassNeverMatchesAnotherOpOrSize() {
        List<DumpedLayer> dump = List.of(
                new DumpedLayer(0, "x", "Softmax", new int[] {1, 8, 4, 4}, false, "a"),
                new DumpedLayer(1, "y", "Relu", new int[] {1, 7}, false, "b"));
        LayerMapping m = LayerMapper.map(dump, TARGETS, Map.of());
        assertTrue(m.entries().isEmpty(), m.entries().toString());
        assertEquals(4, m.unmatchedTargets().size());
    }

    @Test
    void aMappingFileNamingAMissingLayerIsRefusedWithTheClosestName() {
        List<DumpedLayer> dump = List.of(new DumpedLayer(0, "a", null, null, false, "a"));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> LayerMapper.map(dump, TARGETS, Map.of("a", "/head/DepthToSpace_output")));
        assertTrue(e.getMessage().contains("closest: '/head/DepthToSpace_output_0'"), e.getMessage());
    }

    @Test
    void relayoutTransposesCodesFromChannelsLast() {
        // NHWC 1x1x2x3: pixel 0 has channels (0,1,2), pixel 1 has (10,11,12).
        QTensor q = new QTensor(
                new int[] {1, 1, 2, 3}, new int[] {0, 1, 2, 10, 11, 12}, QuantParams.perTensor(DType.INT8, 0.5f, 0));
        LayerValue v = Relayout.toTarget(LayerValue.of(q), new int[] {1, 3, 1, 2}, true, "t");
        assertArrayEquals(new int[] {0, 10, 1, 11, 2, 12}, v.codes().codes());
        assertArrayEquals(new int[] {1, 3, 1, 2}, v.shape());
        assertThrows(
                IllegalArgumentException.class,
                () -> Relayout.toTarget(LayerValue.of(q), new int[] {1, 7}, false, "t"));
    }

    @TempDir
    Path tmp;

    @Test
    void mapFileReadsNamesAndQuantizationAndRefusesTypos() throws Exception {
        Path f = tmp.resolve("map.yaml");
        Files.writeString(
                f,
                "layers:\n  conv1: /backbone/conv1/Conv_output_0\n  \"42\": {name: out, scale: 0.25,"
                        + " zero_point: 3, dtype: uint8}\nfix_pos: 4\n");
        MapFile m = MapFile.load(f);
        assertEquals(Map.of("conv1", "/backbone/conv1/Conv_output_0", "42", "out"), m.names());
        assertEquals(0.25f, m.fixedPoint().scaleOf("42"));
        assertEquals(3, m.fixedPoint().zeroPointOf("42"));
        assertEquals(DType.UINT8, m.fixedPoint().dtypeOf("42"));
        assertEquals(4, m.fixedPoint().fixPosOf("other"));

        Files.writeString(f, "layer:\n  a: b\n");
        Exception e = assertThrows(java.io.IOException.class, () -> MapFile.load(f));
        assertTrue(e.getMessage().contains("unknown key 'layer'"), e.getMessage());
        Files.writeString(f, "layers:\n  a: {name: b, dtype: int4}\n");
        e = assertThrows(java.io.IOException.class, () -> MapFile.load(f));
        assertTrue(e.getMessage().contains("int4"), e.getMessage());
    }
}
