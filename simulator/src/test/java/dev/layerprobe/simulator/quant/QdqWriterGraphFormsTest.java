package dev.layerprobe.simulator.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What {@link QdqWriter} writes for graph forms that break naive writers (names that collide,
 * initializers read by several layers, old opsets), and that {@link QdqImport} and the compiler
 * give every layer its own parameters back. ONNX Runtime's view of the same forms is checked in
 * the host's {@code QdqGraphFormsTest}.
 */
class QdqWriterGraphFormsTest {
    private static final int C = 8;
    private static final int[] X = {1, C, 6, 6};

    private static Node conv(String name, String x, String w, String b, String y) {
        List<String> in = b == null ? List.of(x, w) : List.of(x, w, b);
        return new Node(name, "Conv", "", in, List.of(y), Map.of("pads", Attribute.ofInts(1, 1, 1, 1)));
    }

    private static NpuProgram compile(Graph g) throws SimulatorException {
        return Simulator.compile(OnnxGraphs.toModel(g, "test", Map.of()), g.name(), CompileOptions.DEFAULT);
    }

    private static Calibration calibrate(NpuProgram fp) throws SimulatorException {
        List<Map<String, Tensor>> in = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Tensor x = MixedPrecisionTest.random(fp.inputs().get(0).shape(), 10 + i);
            in.add(Map.of(fp.inputs().get(0).name(), x));
        }
        return Calibration.collect(fp, in, n -> {});
    }

    /** Every node name non-empty and unique; every tensor assigned once, and defined before use. */
    static void assertWellFormed(ModelProto m) {
        Set<String> nodes = new HashSet<>();
        Set<String> defined = new HashSet<>();
        m.getGraph().getInitializerList().forEach(t -> assertTrue(defined.add(t.getName()), t.getName()));
        m.getGraph().getInputList().forEach(v -> defined.add(v.getName()));
        for (NodeProto n : m.getGraph().getNodeList()) {
            assertTrue(nodes.add(n.getName()), "node name '" + n.getName() + "' repeats");
            for (String in : n.getInputList()) {
                assertTrue(in.isEmpty() || defined.contains(in), n.getName() + " reads '" + in + "' before it exists");
            }
            for (String out : n.getOutputList()) {
                assertTrue(defined.add(out), n.getName() + " writes '" + out + "', which exists already");
            }
        }
    }

    private static List<NodeProto> dequantizersOf(ModelProto m, String constant) {
        return m.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("DequantizeLinear")
                        && n.getInput(0).startsWith(constant + "_quantized"))
                .toList();
    }

    private static double cos(float[] a, float[] b) {
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

    /** Runs float and quantized programs on one input; the quantized output's cos against float. */
    private static double agreement(NpuProgram fp, ModelProto qdq) throws SimulatorException {
        Map<String, Tensor> feed = Map.of(
                fp.inputs().get(0).name(),
                MixedPrecisionTest.random(fp.inputs().get(0).shape(), 99));
        NpuProgram qp = Simulator.compile(qdq, "q", CompileOptions.DEFAULT);
        String out = fp.outputs().get(0);
        return cos(
                fp.run(feed, LayerObserver.NONE).get(out).real().floats(),
                qp.run(feed, LayerObserver.NONE).get(out).real().floats());
    }

    @Test
    void aBiasReadByTwoConvsIsQuantizedAtEachConvsScaleAndTheWeightOnce() throws Exception {
        Map<String, Tensor> c = new LinkedHashMap<>();
        c.put("w", MixedPrecisionTest.random(new int[] {C, C, 3, 3}, 1));
        c.put("b", MixedPrecisionTest.random(new int[] {C}, 2));
        Graph g = new Graph(
                "shared",
                List.of(
                        conv("c1", "x", "w", "b", "t"),
                        new Node("relu", "Relu", "", List.of("t"), List.of("u"), Map.of()),
                        conv("c2", "u", "w", "b", "y")),
                c,
                List.of(new ValueInfo("x", DType.FLOAT32, X)),
                List.of("y"),
                Map.of("", 13));
        NpuProgram fp = compile(g);
        ModelProto qdq = QdqWriter.write(fp, calibrate(fp), QuantConfig.INT8);
        assertWellFormed(qdq);
        assertEquals(1, dequantizersOf(qdq, "w").size(), "equal weight parameters: one DequantizeLinear");
        List<NodeProto> biases = dequantizersOf(qdq, "b");
        assertEquals(2, biases.size(), "one bias per input scale");

        // Imported back, each Conv reads its own codes, at its own s_x * s_w.
        Graph back = OnnxGraphs.toGraph(qdq, Path.of("."));
        QuantSpec spec = QdqImport.extract(back);
        List<Float> biasScales = new ArrayList<>();
        for (Node n : back.nodes()) {
            if (n.opType().equals("Conv")) {
                QTensor w = spec.constantCodes(n.input(1));
                QTensor b = spec.constantCodes(n.input(2));
                float sx = spec.activation(n.input(0)).scale(0);
                for (int ch = 0; ch < C; ch++) {
                    assertEquals(sx * w.params().scale(ch), b.params().scale(ch), 0f, n.name() + " channel " + ch);
                }
                biasScales.add(b.params().scale(0));
            }
        }
        assertEquals(2, biasScales.size());
        assertNotEquals(biasScales.get(0), biasScales.get(1), "the two Convs' inputs have different scales");
        assertTrue(agreement(fp, qdq) > 0.999, "quantized model follows the float one");
    }

    @Test
    void namesTheSourceAlreadyUsesAreNotReused() throws Exception {
        // The source already holds tensors and nodes named as the writer names its own.
        Map<String, Tensor> c = new LinkedHashMap<>();
        c.put("w", MixedPrecisionTest.random(new int[] {C, C, 3, 3}, 3));
        c.put("x_scale", Tensor.scalar(0.5f));
        c.put("w_quantized", MixedPrecisionTest.random(new int[] {C, C, 3, 3}, 4));
        Graph g = new Graph(
                "clash",
                List.of(
                        new Node(
                                "x_QuantizeLinear",
                                "Mul",
                                "",
                                List.of("x", "x_scale"),
                                List.of("x_DequantizeLinear_Output"),
                                Map.of()),
                        conv("c1", "x_DequantizeLinear_Output", "w", null, "t"),
                        conv("w_quantized_DequantizeLinear", "t", "w_quantized", null, "y")),
                c,
                List.of(new ValueInfo("x", DType.FLOAT32, X)),
                List.of("y"),
                Map.of("", 13));
        NpuProgram fp = compile(g);
        ModelProto qdq = QdqWriter.write(fp, calibrate(fp), QuantConfig.INT8);
        assertWellFormed(qdq);
        assertTrue(agreement(fp, qdq) > 0.99);
    }

    @Test
    void perChannelWeightsBelowOpset13AreComMicrosoftDequantizeLinearWithAxis() throws Exception {
        // Conv -> per-channel Mul -> per-channel Add, Paddle2ONNX's BatchNormalization, at opset 11.
        Map<String, Tensor> c = new LinkedHashMap<>();
        c.put("w", MixedPrecisionTest.random(new int[] {C, C, 3, 3}, 5));
        float[] k = new float[C];
        for (int i = 0; i < C; i++) {
            k[i] = 0.02f * (1 << i % 6);
        }
        c.put("k", Tensor.ofFloats(new int[] {1, C, 1, 1}, k));
        c.put("shift", MixedPrecisionTest.random(new int[] {1, C, 1, 1}, 6));
        Graph g = new Graph(
                "paddle",
                List.of(
                        conv("c1", "x", "w", null, "t"),
                        new Node("mul", "Mul", "", List.of("t", "k"), List.of("m"), Map.of()),
                        new Node("add", "Add", "", List.of("m", "shift"), List.of("y"), Map.of())),
                c,
                List.of(new ValueInfo("x", DType.FLOAT32, X)),
                List.of("y"),
                Map.of("", 11));
        NpuProgram fp = compile(g);
        assertEquals(1, fp.layers().size(), "Mul and Add fold into the Conv");
        ModelProto qdq = QdqWriter.write(fp, calibrate(fp), QuantConfig.INT8);
        assertWellFormed(qdq);
        assertTrue(
                qdq.getOpsetImportList()
                        .contains(OperatorSetIdProto.newBuilder()
                                .setDomain("com.microsoft")
                                .setVersion(1)
                                .build()),
                qdq.getOpsetImportList().toString());
        NodeProto conv = qdq.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("Conv"))
                .findFirst()
                .orElseThrow();
        for (int i = 1; i <= 2; i++) {
            String in = conv.getInput(i);
            NodeProto dq = qdq.getGraph().getNodeList().stream()
                    .filter(n -> n.getOutputList().contains(in))
                    .findFirst()
                    .orElseThrow();
            assertEquals("com.microsoft", dq.getDomain(), dq.getName());
            assertEquals(0, dq.getAttribute(0).getI(), dq.getName() + " axis");
        }
        for (NodeProto n : qdq.getGraph().getNodeList()) {
            if (n.getOpType().equals("QuantizeLinear")) {
                assertEquals("", n.getDomain(), "per-tensor activations keep the ONNX domain at opset 11");
            }
        }
        Graph back = OnnxGraphs.toGraph(qdq, Path.of("."));
        QuantSpec spec = QdqImport.extract(back);
        Node folded = back.nodes().stream()
                .filter(n -> n.opType().equals("Conv"))
                .findFirst()
                .orElseThrow();
        QTensor w = spec.constantCodes(folded.input(1));
        assertFalse(w.params().isPerTensor(), "per-channel weights read back");
        assertEquals(C, w.params().scale().length);
        float[] w0 = c.get("w").floats();
        int per = w0.length / C;
        for (int ch = 0; ch < C; ch++) {
            float max = 0;
            for (int i = 0; i < per; i++) {
                max = Math.max(max, Math.abs(w0[ch * per + i] * k[ch]));
            }
            assertEquals(max / 127, w.params().scale(ch), max / 127 * 1e-5f, "channel " + ch + " of the folded Conv");
        }
        assertTrue(agreement(fp, qdq) > 0.999);
    }

    @Test
    void perTensorStaysPerTensorWhenAsked() throws Exception {
        Map<String, Tensor> c = Map.of(
                "w",
                MixedPrecisionTest.random(new int[] {C, C, 3, 3}, 7),
                "b",
                MixedPrecisionTest.random(new int[] {C}, 8));
        Graph g = new Graph(
                "pt",
                List.of(conv("c1", "x", "w", "b", "y")),
                c,
                List.of(new ValueInfo("x", DType.FLOAT32, X)),
                List.of("y"),
                Map.of("", 11));
        NpuProgram fp = compile(g);
        ModelProto qdq = QdqWriter.write(fp, calibrate(fp), new QuantConfig(DType.INT8, DType.INT8, false));
        for (NodeProto n : qdq.getGraph().getNodeList()) {
            if (n.getOpType().equals("DequantizeLinear")) {
                assertEquals("", n.getDomain(), n.getName());
                assertEquals(0, n.getAttributeCount(), n.getName() + " has no axis");
            }
        }
        assertEquals(
                2,
                qdq.getGraph().getNodeList().stream()
                        .filter(n -> n.getOpType().equals("DequantizeLinear")
                                && n.getInput(0).endsWith("_quantized"))
                        .count(),
                "weight and bias");
        assertTrue(agreement(fp, qdq) > 0.99);
        assertTrue(
                qdq.getOpsetImportList().stream().noneMatch(o -> o.getDomain().equals("com.microsoft")));
    }

    @Test
    void opset9IsRaisedTo11WithEveryChangedOpInItsOpset11Form() throws Exception {
        Map<String, Tensor> c = new LinkedHashMap<>();
        c.put("w", MixedPrecisionTest.random(new int[] {C, C, 3, 3}, 8));
        c.put("scales", Tensor.ofFloats(new int[] {4}, new float[] {1, 1, 2, 2}));
        Graph g = new Graph(
                "old",
                List.of(
                        conv("c1", "x", "w", null, "t"),
                        new Node("up", "Upsample", "", List.of("t", "scales"), List.of("u"), Map.of()),
                        new Node(
                                "crop",
                                "Slice",
                                "",
                                List.of("u"),
                                List.of("v"),
                                Map.of(
                                        "starts",
                                        Attribute.ofInts(1, 1),
                                        "ends",
                                        Attribute.ofInts(-1, 11),
                                        "axes",
                                        Attribute.ofInts(2, 3))),
                        new Node(
                                "pad",
                                "Pad",
                                "",
                                List.of("v"),
                                List.of("p"),
                                Map.of(
                                        "pads",
                                        Attribute.ofInts(0, 0, 1, 0, 0, 0, 0, 2),
                                        "value",
                                        Attribute.ofFloat(0.25f))),
                        new Node(
                                "clip",
                                "Clip",
                                "",
                                List.of("p"),
                                List.of("q"),
                                Map.of("min", Attribute.ofFloat(-0.5f), "max", Attribute.ofFloat(1.5f))),
                        new Node("top", "TopK", "", List.of("q"), List.of("y", "i"), Map.of("k", Attribute.ofInt(3)))),
                c,
                List.of(new ValueInfo("x", DType.FLOAT32, X)),
                List.of("y", "i"),
                Map.of("", 9));
        NpuProgram fp = compile(g);
        ModelProto qdq = QdqWriter.write(fp, calibrate(fp), QuantConfig.INT8);
        assertWellFormed(qdq);
        assertEquals(
                11,
                qdq.getOpsetImportList().stream()
                        .filter(o -> o.getDomain().isEmpty())
                        .findFirst()
                        .orElseThrow()
                        .getVersion());
        Map<String, NodeProto> byOp = new LinkedHashMap<>();
        qdq.getGraph().getNodeList().forEach(n -> byOp.put(n.getOpType(), n));
        assertFalse(byOp.containsKey("Upsample"));
        assertEquals(3, byOp.get("Resize").getInputCount(), "X, roi, scales");
        for (String op : List.of("Slice", "Pad", "Clip", "TopK")) {
            assertEquals(
                    0,
                    byOp.get(op).getAttributeList().stream()
                            .filter(a -> !a.getName().equals("mode"))
                            .count(),
                    op + " keeps no attribute that became an input");
        }
        assertEquals(4, byOp.get("Slice").getInputCount());
        assertEquals(3, byOp.get("Pad").getInputCount());
        assertEquals(3, byOp.get("Clip").getInputCount());
        assertEquals(2, byOp.get("TopK").getInputCount());

        ModelProto fp16 = QdqWriter.write(fp, calibrate(fp), QuantConfig.FP16);
        assertEquals(
                9,
                fp16.getOpsetImportList().stream()
                        .filter(o -> o.getDomain().isEmpty())
                        .findFirst()
                        .orElseThrow()
                        .getVersion(),
                "fp16 needs no QuantizeLinear: the opset stays");

        Map<String, Tensor> feed = Map.of("x", MixedPrecisionTest.random(X, 11));
        var a = fp.run(feed, LayerObserver.NONE);
        var b = compile(OpsetUpgrade.toQdqOpset(fp.graph())).run(feed, LayerObserver.NONE);
        assertArrayEquals(a.get("y").real().floats(), b.get("y").real().floats(), "the two forms compute the same");
        assertArrayEquals(
                a.get("i").real().toFloat().floats(),
                b.get("i").real().toFloat().floats());
    }

    @Test
    void opset10ResizeKeepsItsAsymmetricCoordinatesAtOpset11() throws Exception {
        for (String mode : List.of("nearest", "linear")) {
            Map<String, Tensor> c = Map.of("scales", Tensor.ofFloats(new int[] {4}, new float[] {1, 1, 1.5f, 2.5f}));
            Graph g = new Graph(
                    "r10",
                    List.of(new Node(
                            "r",
                            "Resize",
                            "",
                            List.of("x", "scales"),
                            List.of("y"),
                            Map.of("mode", Attribute.ofString(mode)))),
                    c,
                    List.of(new ValueInfo("x", DType.FLOAT32, X)),
                    List.of("y"),
                    Map.of("", 10));
            Graph raised = OpsetUpgrade.toQdqOpset(g);
            assertEquals("asymmetric", raised.nodes().get(0).attrString("coordinate_transformation_mode", ""));
            Map<String, Tensor> feed = Map.of("x", MixedPrecisionTest.random(X, 14));
            assertArrayEquals(
                    compile(g).run(feed, LayerObserver.NONE).get("y").real().floats(),
                    compile(raised)
                            .run(feed, LayerObserver.NONE)
                            .get("y")
                            .real()
                            .floats(),
                    mode);
        }
    }

    @Test
    void opset7UpsampleAndBatchNormalizationAreConvertedAndSpatial0AndOpset6Refused() throws Exception {
        Map<String, Tensor> c = new LinkedHashMap<>();
        for (String p : List.of("s", "bias", "mean", "var")) {
            c.put(
                    p,
                    Tensor.ofFloats(
                            new int[] {C},
                            MixedPrecisionTest.random(new int[] {C}, p.length()).floats()));
        }
        c.put("var", Tensor.ofFloats(new int[] {C}, new float[] {1, 2, 3, 4, 5, 6, 7, 8}));
        Node bn = new Node(
                "bn",
                "BatchNormalization",
                "",
                List.of("x", "s", "bias", "mean", "var"),
                List.of("b"),
                Map.of("spatial", Attribute.ofInt(1)));
        Node up = new Node(
                "up",
                "Upsample",
                "",
                List.of("b"),
                List.of("y"),
                Map.of("scales", Attribute.ofFloats(1, 1, 2, 2), "mode", Attribute.ofString("nearest")));
        Graph g7 = new Graph(
                "g7", List.of(bn, up), c, List.of(new ValueInfo("x", DType.FLOAT32, X)), List.of("y"), Map.of("", 7));
        Graph raised = OpsetUpgrade.toQdqOpset(g7);
        assertEquals(11, raised.opset());
        Node resize = raised.nodes().get(1);
        assertEquals("Resize", resize.opType());
        assertArrayEquals(
                new float[] {1, 1, 2, 2}, raised.constant(resize.input(2)).floats());
        assertTrue(raised.nodes().get(0).attr("spatial") == null);
        Map<String, Tensor> feed = Map.of("x", MixedPrecisionTest.random(X, 12));
        assertArrayEquals(
                compile(g7).run(feed, LayerObserver.NONE).get("y").real().floats(),
                compile(raised).run(feed, LayerObserver.NONE).get("y").real().floats());

        Graph spatial0 = new Graph(
                "s0",
                List.of(new Node(
                        "bn",
                        "BatchNormalization",
                        "",
                        bn.inputs(),
                        List.of("y"),
                        Map.of("spatial", Attribute.ofInt(0)))),
                c,
                g7.inputs(),
                List.of("y"),
                Map.of("", 8));
        SimulatorException e = assertThrows(SimulatorException.class, () -> OpsetUpgrade.toQdqOpset(spatial0));
        assertEquals(Code.UNSUPPORTED_QUANTIZATION, e.code());
        assertTrue(e.getMessage().contains("'bn'") && e.getMessage().contains("spatial=0"), e.getMessage());

        Graph g6 = new Graph(
                "g6",
                List.of(new Node("relu", "Relu", "", List.of("x"), List.of("y"), Map.of())),
                Map.of(),
                g7.inputs(),
                List.of("y"),
                Map.of("", 6));
        e = assertThrows(SimulatorException.class, () -> OpsetUpgrade.toQdqOpset(g6));
        assertTrue(e.getMessage().contains("opset 6") && e.getMessage().contains("version_converter"), e.getMessage());
    }

    @Test
    void quantizedCodesBehindIdentityChainsImport() throws Exception {
        Map<String, Tensor> c = Map.of("w", MixedPrecisionTest.random(new int[] {C, C, 3, 3}, 9));
        Graph g = new Graph(
                "id",
                List.of(conv("c1", "x", "w", null, "y")),
                c,
                List.of(new ValueInfo("x", DType.FLOAT32, X)),
                List.of("y"),
                Map.of("", 13));
        NpuProgram fp = compile(g);
        ModelProto qdq = QdqWriter.write(fp, calibrate(fp), QuantConfig.INT8);
        // Another tool's form: the weight codes reach their DequantizeLinear through two Identity nodes.
        ModelProto.Builder b = qdq.toBuilder();
        for (int i = 0; i < b.getGraph().getNodeCount(); i++) {
            NodeProto n = b.getGraph().getNode(i);
            if (n.getOpType().equals("DequantizeLinear") && n.getInput(0).equals("w_quantized")) {
                b.getGraphBuilder().setNode(i, n.toBuilder().setInput(0, "w_codes_2"));
                b.getGraphBuilder()
                        .addNode(
                                0,
                                NodeProto.newBuilder()
                                        .setName("id2")
                                        .setOpType("Identity")
                                        .addInput("w_codes_1")
                                        .addOutput("w_codes_2"));
                b.getGraphBuilder()
                        .addNode(
                                0,
                                NodeProto.newBuilder()
                                        .setName("id1")
                                        .setOpType("Identity")
                                        .addInput("w_quantized")
                                        .addOutput("w_codes_1"));
                break;
            }
        }
        NpuProgram plain = Simulator.compile(qdq, "plain", CompileOptions.DEFAULT);
        NpuProgram chained = Simulator.compile(b.build(), "chained", CompileOptions.DEFAULT);
        Map<String, Tensor> feed = Map.of("x", MixedPrecisionTest.random(X, 13));
        assertArrayEquals(
                plain.run(feed, LayerObserver.NONE).get("y").codes().codes(),
                chained.run(feed, LayerObserver.NONE).get("y").codes().codes());
    }

    @Test
    void anInt16BiasBeyondInt32AtSxSwIsWrittenExactly() throws Exception {
        // int16 scales make s_x * s_w about 1e-9: a bias of 10 is 1e10 accumulator units.
        float[] bias = {10f, -3.7f, 0f, 1e-3f, 123.456f, -0.1f, 7f, 1e-40f};
        Map<String, Tensor> c = Map.of(
                "w", MixedPrecisionTest.random(new int[] {C, C, 3, 3}, 15), "b", Tensor.ofFloats(new int[] {C}, bias));
        Graph g = new Graph(
                "i16",
                List.of(conv("c1", "x", "w", "b", "y")),
                c,
                List.of(new ValueInfo("x", DType.FLOAT32, X)),
                List.of("y"),
                Map.of("", 11));
        NpuProgram fp = compile(g);
        ModelProto qdq = QdqWriter.write(fp, calibrate(fp), QuantConfig.INT16);
        assertWellFormed(qdq);
        List<NodeProto> dq = dequantizersOf(qdq, "b");
        assertEquals(1, dq.size(), "the bias is int32 codes, not a float ONNX Runtime would quantize itself");
        assertEquals("com.microsoft", dq.get(0).getDomain(), "per-axis below opset 13");
        Graph back = OnnxGraphs.toGraph(qdq, Path.of("."));
        QdqImport.extract(back);
        Node conv = back.nodes().stream()
                .filter(n -> n.opType().equals("Conv"))
                .findFirst()
                .orElseThrow();
        assertArrayEquals(bias, back.constant(conv.input(2)).floats(), "held exactly");
        assertTrue(agreement(fp, qdq) > 0.9999);
    }
}
