package dev.layerprobe.simulator.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Half;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.SharedData;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** int16, fp16 and hybrid programs written by {@link QdqWriter} and read back by {@link QdqImport}. */
class MixedPrecisionTest {
    private static final int[] X = {1, 3, 8, 8};

    @TempDir
    Path tmp;

    static Tensor random(int[] shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return Tensor.ofFloats(shape, v);
    }

    /**
     * x -> Conv(3->8)+Relu -> c1 -> Conv(8->8) -> c2 -> Add(c1, c2) -> a -> Sigmoid -> s
     * -> Conv(8->4) -> y: integer kernels, a two-input op, a LUT and a graph output.
     */
    static NpuProgram smallNet() throws SimulatorException {
        Map<String, Tensor> c = new LinkedHashMap<>();
        c.put("w1", random(new int[] {8, 3, 3, 3}, 1));
        c.put("b1", random(new int[] {8}, 2));
        c.put("w2", random(new int[] {8, 8, 3, 3}, 3));
        c.put("b2", random(new int[] {8}, 4));
        c.put("w3", random(new int[] {4, 8, 1, 1}, 5));
        c.put("b3", random(new int[] {4}, 6));
        Map<String, Attribute> pads = Map.of("pads", Attribute.ofInts(1, 1, 1, 1));
        List<Node> nodes = List.of(
                new Node("conv1", "Conv", "", List.of("x", "w1", "b1"), List.of("t1"), pads),
                new Node("relu1", "Relu", "", List.of("t1"), List.of("c1"), Map.of()),
                new Node("conv2", "Conv", "", List.of("c1", "w2", "b2"), List.of("c2"), pads),
                new Node("add", "Add", "", List.of("c1", "c2"), List.of("a"), Map.of()),
                new Node("sigmoid", "Sigmoid", "", List.of("a"), List.of("s"), Map.of()),
                new Node("conv3", "Conv", "", List.of("s", "w3", "b3"), List.of("y"), Map.of()));
        Graph g = new Graph(
                "small", nodes, c, List.of(new ValueInfo("x", DType.FLOAT32, X)), List.of("y"), Map.of("", 13));
        return Simulator.compile(OnnxGraphs.toModel(g, "test", Map.of()), "small", CompileOptions.DEFAULT);
    }

    static Calibration calibrate(NpuProgram fp, int samples) throws SimulatorException {
        List<Map<String, Tensor>> feeds = new ArrayList<>();
        for (int i = 0; i < samples; i++) {
            feeds.add(Map.of(fp.inputs().get(0).name(), input(fp, i)));
        }
        return Calibration.collect(fp, feeds, n -> {});
    }

    static Tensor input(NpuProgram fp, long seed) {
        return random(fp.inputs().get(0).shape(), seed);
    }

    static NpuProgram quantize(NpuProgram fp, Calibration c, QuantConfig config) throws SimulatorException {
        return Simulator.compile(QdqWriter.write(fp, c, config), fp.modelName() + ".qdq", CompileOptions.DEFAULT);
    }

    static double cos(NpuProgram fp, NpuProgram qp, long seed) throws SimulatorException {
        Map<String, Tensor> in = Map.of(fp.inputs().get(0).name(), input(fp, seed));
        String out = fp.outputs().get(0);
        float[] a = fp.run(in, LayerObserver.NONE).get(out).real().floats();
        float[] b = qp.run(in, LayerObserver.NONE).get(out).real().floats();
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    private static NpuProgram espcn() throws SimulatorException {
        return Simulator.compile(SharedData.require("models/espcn_x3.onnx"), CompileOptions.DEFAULT);
    }

    @Test
    void int16ProgramRunsOnTheNpuAndFollowsFloatCloserThanInt8() throws Exception {
        NpuProgram fp = espcn();
        Calibration c = calibrate(fp, 4);
        ModelProto qdq = QdqWriter.write(fp, c, QuantConfig.INT16);
        List<NodeProto> qdqNodes = qdq.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().endsWith("QuantizeLinear"))
                .toList();
        assertTrue(qdqNodes.stream().anyMatch(n -> n.getDomain().equals("com.microsoft")));
        for (NodeProto n : qdqNodes) {
            boolean int16 = qdq.getGraph().getInitializerList().stream()
                    .anyMatch(t ->
                            t.getName().equals(n.getInput(2)) && t.getDataType() == TensorProto.DataType.INT16_VALUE);
            assertEquals(int16, n.getDomain().equals("com.microsoft"), "domain of " + n.getName());
        }
        assertTrue(qdq.getOpsetImportList().stream()
                .anyMatch(o -> o.getDomain().equals("com.microsoft") && o.getVersion() == 1));
        NpuProgram q16 = Simulator.compile(qdq, "espcn.int16", CompileOptions.DEFAULT);
        NpuProgram q8 = quantize(fp, c, QuantConfig.INT8);
        assertEquals(fp.layers().size(), q16.layers().size());
        for (Layer l : q16.layers()) {
            assertEquals(Placement.NPU, l.placement(), "layer " + l.name());
            assertEquals(DType.INT16, l.outputQuant().type(), "layer " + l.name());
        }
        double cos16 = cos(fp, q16, 99);
        double cos8 = cos(fp, q8, 99);
        assertTrue(cos16 > 0.9999, "int16 cos " + cos16);
        assertTrue(1 - cos16 < (1 - cos8) / 10, "int16 cos " + cos16 + ", int8 cos " + cos8);
    }

    @Test
    void fp16ProgramIsFp16ExactAtEveryLayer() throws Exception {
        NpuProgram fp = espcn();
        ModelProto qdq = QdqWriter.write(fp, calibrate(fp, 2), QuantConfig.FP16);
        assertTrue(qdq.getGraph().getInitializerList().stream()
                .anyMatch(t -> t.getDataType() == TensorProto.DataType.FLOAT16_VALUE));
        assertTrue(qdq.getGraph().getNodeList().stream()
                .noneMatch(n -> n.getOpType().endsWith("QuantizeLinear")));
        NpuProgram hp = Simulator.compile(qdq, "espcn.fp16", CompileOptions.DEFAULT);
        assertEquals(fp.layers().size(), hp.layers().size());
        for (Layer l : hp.layers()) {
            assertEquals(Placement.NPU, l.placement(), "layer " + l.name());
            assertNull(l.outputQuant(), "layer " + l.name());
        }
        List<String> notExact = new ArrayList<>();
        hp.run(Map.of(fp.inputs().get(0).name(), input(fp, 7)), (layer, v) -> {
            for (float f : v.real().floats()) {
                if (Half.round(f) != f) {
                    notExact.add(layer.name());
                    return;
                }
            }
        });
        assertEquals(List.of(), notExact, "layers with values that are not binary16");
        double cos = cos(fp, hp, 99);
        assertTrue(cos > 0.9999, "fp16 cos " + cos);
    }

    @Test
    void promotingOneLayerToInt16ChangesOnlyThatLayer() throws Exception {
        NpuProgram fp = smallNet();
        Calibration c = calibrate(fp, 3);
        NpuProgram q8 = quantize(fp, c, QuantConfig.INT8);
        NpuProgram hy = quantize(fp, c, QuantConfig.INT8.withOverrides(Map.of("c1", LayerPrecision.INT16)));
        assertEquals(q8.layers().size(), hy.layers().size());
        for (int i = 0; i < q8.layers().size(); i++) {
            Layer a = q8.layers().get(i);
            Layer b = hy.layers().get(i);
            assertEquals(a.name(), b.name());
            assertEquals(
                    a.name().equals("c1") ? DType.INT16 : DType.INT8,
                    b.outputQuant().type(),
                    "layer " + b.name());
            assertEquals(Placement.NPU, b.placement(), "layer " + b.name());
        }
        // conv2 and add (int8) read c1's int16 codes.
        Map<String, Tensor> in = Map.of("x", input(fp, 11));
        float[] want = fp.run(in, LayerObserver.NONE).get("y").real().floats();
        float[] got = hy.run(in, LayerObserver.NONE).get("y").real().floats();
        assertEquals(want.length, got.length);
        assertTrue(cos(fp, hy, 11) > 0.999, "hybrid cos " + cos(fp, hy, 11));
    }

    @Test
    void hybridPlacesOnlyFloat32LayersOnTheCpu() throws Exception {
        NpuProgram fp = smallNet();
        Calibration c = calibrate(fp, 3);
        Map<String, LayerPrecision> layers = Map.of(
                "c1",
                LayerPrecision.INT16,
                "c2",
                LayerPrecision.FLOAT32,
                "a",
                LayerPrecision.FP16,
                "s",
                LayerPrecision.FLOAT32);
        NpuProgram hy = quantize(fp, c, QuantConfig.INT8.withOverrides(layers));
        Map<String, Layer> byName = new LinkedHashMap<>();
        hy.layers().forEach(l -> byName.put(l.name(), l));
        assertEquals(fp.layers().stream().map(Layer::name).toList(), new ArrayList<>(byName.keySet()));
        for (Layer l : hy.layers()) {
            LayerPrecision p = layers.getOrDefault(l.name(), LayerPrecision.INT8);
            assertEquals(
                    p == LayerPrecision.FLOAT32 ? Placement.CPU : Placement.NPU, l.placement(), "layer " + l.name());
            assertEquals(p, l.precision(), "layer " + l.name());
        }
        assertEquals(DType.INT16, byName.get("c1").outputQuant().type());
        assertNull(byName.get("c2").outputQuant());
        assertNull(byName.get("a").outputQuant());
        Map<String, LayerValue> values = new LinkedHashMap<>();
        hy.run(Map.of("x", input(fp, 5)), (layer, v) -> values.put(layer.name(), v));
        for (float f : values.get("a").real().floats()) {
            assertEquals(Half.round(f), f);
        }
        assertTrue(values.get("y").isQuantized());
        assertTrue(cos(fp, hy, 5) > 0.999, "hybrid cos " + cos(fp, hy, 5));
    }

    @Test
    void hybridFileNamingMissingLayersListsTheClosest() throws Exception {
        NpuProgram fp = smallNet();
        Path file = tmp.resolve("hybrid.yaml");
        Files.writeString(file, "# layer -> precision\nlayers:\n  c1: int16\n  c3: fp16\n  relu1: float32\n");
        HybridSpec spec = HybridSpec.load(file);
        assertEquals(
                Map.of("c1", LayerPrecision.INT16, "c3", LayerPrecision.FP16, "relu1", LayerPrecision.FLOAT32),
                spec.layers());
        SimulatorException e = assertThrows(SimulatorException.class, () -> spec.validate(fp));
        assertEquals(Code.BAD_INPUT, e.code());
        assertTrue(e.getMessage().contains("'c3' (closest: [c1, c2"), e.getMessage());
        assertTrue(e.getMessage().contains("'relu1'"), e.getMessage());
        assertTrue(!e.getMessage().contains("'c1'"), e.getMessage());

        Files.writeString(file, "layers:\n  c1: int4\n  c2: bf16\n  y: fp16\n");
        SimulatorException bad = assertThrows(SimulatorException.class, () -> HybridSpec.load(file));
        assertEquals(Code.BAD_INPUT, bad.code());
        assertTrue(
                bad.getMessage().contains("'c1': 'int4'") && bad.getMessage().contains("'c2': 'bf16'"),
                bad.getMessage());
        assertTrue(bad.getMessage().contains("[int8, uint8, int16, fp16, float32]"), bad.getMessage());

        Files.writeString(file, "layers:\n  c1: int16\n  y: fp16\n");
        HybridSpec ok = HybridSpec.load(file);
        ok.validate(fp);
        NpuProgram hy = quantize(fp, calibrate(fp, 2), QuantConfig.INT8.withOverrides(ok.layers()));
        assertEquals(Placement.NPU, hy.layer("y").orElseThrow().placement());
    }

    /** An int8 QDQ model of the small net with one zero point's initializer rewritten by {@code edit}. */
    private static ModelProto withZeroPoint(java.util.function.UnaryOperator<TensorProto> edit) throws Exception {
        NpuProgram fp = smallNet();
        ModelProto m = QdqWriter.write(fp, calibrate(fp, 2), QuantConfig.INT8);
        ModelProto.Builder b = m.toBuilder();
        for (int i = 0; i < b.getGraph().getInitializerCount(); i++) {
            if (b.getGraph().getInitializer(i).getName().equals("c1_zero_point")) {
                b.getGraphBuilder().setInitializer(i, edit.apply(b.getGraph().getInitializer(i)));
            }
        }
        return b.build();
    }

    @Test
    void float8QdqIsUnsupportedQuantizationNamingTheNode() throws Exception {
        ModelProto m = withZeroPoint(t -> t.toBuilder()
                .setDataType(TensorProto.DataType.FLOAT8E4M3FN_VALUE)
                .build());
        SimulatorException e =
                assertThrows(SimulatorException.class, () -> Simulator.compile(m, "f8", CompileOptions.DEFAULT));
        assertEquals(Code.UNSUPPORTED_QUANTIZATION, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains("QuantizeLinear 'c1_QuantizeLinear'"), e.getMessage());
        assertTrue(e.getMessage().contains("FLOAT8E4M3FN") && e.getMessage().contains("INT8"), e.getMessage());

        ModelProto int4 = withZeroPoint(
                t -> t.toBuilder().setDataType(TensorProto.DataType.INT4_VALUE).build());
        e = assertThrows(SimulatorException.class, () -> Simulator.compile(int4, "i4", CompileOptions.DEFAULT));
        assertEquals(Code.UNSUPPORTED_QUANTIZATION, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains("INT4"), e.getMessage());

        ModelProto u16 = withZeroPoint(t -> t.toBuilder()
                .setDataType(TensorProto.DataType.UINT16_VALUE)
                .setRawData(com.google.protobuf.ByteString.copyFrom(new byte[2]))
                .build());
        e = assertThrows(SimulatorException.class, () -> Simulator.compile(u16, "u16", CompileOptions.DEFAULT));
        assertEquals(Code.UNSUPPORTED_QUANTIZATION, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains("UINT16") && e.getMessage().contains("c1_"), e.getMessage());
    }

    @Test
    void blockedQuantizationIsUnsupported() throws Exception {
        ModelProto m = withZeroPoint(t -> t);
        ModelProto.Builder b = m.toBuilder();
        for (int i = 0; i < b.getGraph().getNodeCount(); i++) {
            NodeProto n = b.getGraph().getNode(i);
            if (n.getName().equals("w2_quantized_DequantizeLinear")) {
                b.getGraphBuilder()
                        .setNode(
                                i,
                                n.toBuilder()
                                        .addAttribute(dev.layerprobe.onnx.Onnx.AttributeProto.newBuilder()
                                                .setName("block_size")
                                                .setType(dev.layerprobe.onnx.Onnx.AttributeProto.AttributeType.INT)
                                                .setI(4)));
            }
        }
        b.clearOpsetImport()
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(21));
        SimulatorException e = assertThrows(
                SimulatorException.class, () -> Simulator.compile(b.build(), "blocked", CompileOptions.DEFAULT));
        assertEquals(Code.UNSUPPORTED_QUANTIZATION, e.code(), e.getMessage());
        assertTrue(
                e.getMessage().contains("'w2_quantized_DequantizeLinear'")
                        && e.getMessage().contains("block_size"),
                e.getMessage());
    }
}
