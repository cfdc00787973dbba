package dev.layerprobe.simulator.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.ValueInfoProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.SharedData;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.kernels.FloatKernels;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.onnx.TensorProtos;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.quant.QuantConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The compiler's binding of quantized layers against the op table ({@link OpTraits}), on real
 * layers: an op whose row gives it an NPU form must be placed on the NPU where its quantization is
 * complete, an op whose row says CPU never is, every fused pattern is one lookup-table layer on the
 * NPU, and lut_coarse reaches each table. Ops come from the ONNX backend node cases
 * ({@code ../shared/testdata/onnx-backend/node}), quantized int8 by the QDQ writer; the cases the
 * suite lacks (native Gelu and Mish, Upsample in a QDQ file, the spelt-out patterns) are built here.
 */
class OpBindingAgreementTest {
    private static final float[] SAMPLE = samples();

    private static Map<String, Tensor> feed() {
        return Map.of("x", Tensor.ofFloats(new int[] {1, SAMPLE.length}, SAMPLE));
    }

    private static float[] samples() {
        float[] x = new float[257];
        for (int i = 0; i < x.length; i++) {
            x[i] = -6 + 12f * i / (x.length - 1);
        }
        return x;
    }

    private static Node node(String name, String op, List<String> in, String out) {
        return new Node(name, op, "", in, List.of(out), Map.of());
    }

    /** The usual spelling of each pattern of the table, as exporters write it. */
    private static List<Node> spelt(String pattern, Map<String, Tensor> k) {
        k.put("three", Tensor.scalar(3f));
        k.put("six", Tensor.scalar(6f));
        k.put("zero", Tensor.scalar(0f));
        k.put("one", Tensor.scalar(1f));
        k.put("half", Tensor.scalar(0.5f));
        k.put("sqrt2", Tensor.scalar((float) Math.sqrt(2)));
        k.put("cube", Tensor.scalar(3f));
        k.put("c", Tensor.scalar(0.044715f));
        k.put("sqrt2pi", Tensor.scalar((float) Math.sqrt(2 / Math.PI)));
        return switch (pattern) {
            case "HardSwish" ->
                List.of(
                        node("a", "Add", List.of("x", "three"), "t1"),
                        node("c", "Clip", List.of("t1", "zero", "six"), "t2"),
                        node("m", "Mul", List.of("x", "t2"), "t3"),
                        node("d", "Div", List.of("t3", "six"), "y"));
            case "HardSigmoid" ->
                List.of(
                        node("d", "Div", List.of("x", "six"), "t1"),
                        node("a", "Add", List.of("t1", "half"), "t2"),
                        node("c", "Clip", List.of("t2", "zero", "one"), "y"));
            case "Gelu" ->
                List.of(
                        node("d", "Div", List.of("x", "sqrt2"), "t1"),
                        node("e", "Erf", List.of("t1"), "t2"),
                        node("a", "Add", List.of("t2", "one"), "t3"),
                        node("m", "Mul", List.of("x", "t3"), "t4"),
                        node("h", "Mul", List.of("t4", "half"), "y"));
            case "GeluTanh" ->
                List.of(
                        node("p", "Pow", List.of("x", "cube"), "t1"),
                        node("m1", "Mul", List.of("t1", "c"), "t2"),
                        node("a1", "Add", List.of("x", "t2"), "t3"),
                        node("m2", "Mul", List.of("t3", "sqrt2pi"), "t4"),
                        node("t", "Tanh", List.of("t4"), "t5"),
                        node("a2", "Add", List.of("t5", "one"), "t6"),
                        node("m3", "Mul", List.of("x", "t6"), "t7"),
                        node("m4", "Mul", List.of("t7", "half"), "y"));
            case "SiLU" -> List.of(node("s", "Sigmoid", List.of("x"), "t1"), node("m", "Mul", List.of("x", "t1"), "y"));
            case "Mish" ->
                List.of(
                        node("s", "Softplus", List.of("x"), "t1"),
                        node("t", "Tanh", List.of("t1"), "t2"),
                        node("m", "Mul", List.of("x", "t2"), "y"));
            default -> throw new AssertionError("spell the new pattern " + pattern + " here");
        };
    }

    /** The program's layer of this op, which must be the only one. */
    private static Layer only(NpuProgram p, String op) {
        List<Layer> layers = p.layers().stream().filter(l -> l.op().equals(op)).toList();
        assertEquals(1, layers.size(), op + " layers of " + p.layers());
        return layers.get(0);
    }

    /** Output codes of the layer y with and without lut_coarse on every layer of this op. */
    private static void assertLutCoarseReaches(ModelProto qdq, String op) throws Exception {
        DeviceProfile coarse = DeviceProfile.parse("name: c\nfaults:\n  - kind: lut_coarse\n    op: " + op + "\n", "t");
        NpuProgram clean = Simulator.compile(qdq, "clean", CompileOptions.DEFAULT);
        NpuProgram faulted = Simulator.compile(qdq, "coarse", CompileOptions.of(coarse));
        int[] c = output(clean);
        int[] f = output(faulted);
        long distinct = java.util.Arrays.stream(f).distinct().count();
        assertTrue(
                distinct <= 16 && java.util.Arrays.stream(c).distinct().count() > 16,
                op + ": lut_coarse leaves " + distinct + " codes");
    }

    private static int[] output(NpuProgram p) throws SimulatorException {
        Map<String, LayerValue> out = new HashMap<>();
        p.run(feed(), (layer, v) -> out.put(layer.name(), v));
        return out.get("y").codes().codes();
    }

    private static ModelProto qdqFile(List<Node> nodes, Map<String, Tensor> constants, int opset)
            throws SimulatorException {
        Graph g = new Graph(
                "op",
                nodes,
                constants,
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, SAMPLE.length})),
                List.of("y"),
                Map.of("", opset));
        NpuProgram fp = Simulator.compile(OnnxGraphs.toModel(g, "test", Map.of()), "op", CompileOptions.DEFAULT);
        return QdqWriter.write(fp, Calibration.collect(fp, List.of(feed()), n -> {}), QuantConfig.INT8);
    }

    @Test
    void everyPatternSpeltOutIsOneLookupTableLayerOnTheNpu() throws Exception {
        for (OpTraits.Pattern p : OpTraits.patterns()) {
            Map<String, Tensor> k = new LinkedHashMap<>();
            List<Node> nodes = spelt(p.name(), k);
            assertEquals(p.spelling(), nodes.stream().map(Node::opType).toList(), p.name() + ": the table's spelling");
            Graph g = new Graph(
                    "p",
                    nodes,
                    k,
                    List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, SAMPLE.length})),
                    List.of("y"),
                    Map.of("", 13));
            NpuProgram fp = Simulator.compile(OnnxGraphs.toModel(g, "test", Map.of()), "p", CompileOptions.DEFAULT);
            assertEquals(1, fp.layers().size(), p.name() + ": " + fp.layers());
            assertEquals(p.name(), fp.layers().get(0).op());
            assertEquals(Placement.NPU, fp.layers().get(0).placement(), p.name() + " in the plan");
            ModelProto qdq = qdqFile(nodes, k, 13);
            Layer l = only(Simulator.compile(qdq, "q", CompileOptions.DEFAULT), p.name());
            assertEquals(Placement.NPU, l.placement(), p.name());
            assertLutCoarseReaches(qdq, p.name());
        }
    }

    @Test
    void nativeGeluAndMishAreTheSameLookupTablesAsTheirPatterns() throws Exception {
        Map<String, Integer> opsets = Map.of("Gelu", 20, "Mish", 18);
        for (Map.Entry<String, Integer> e : opsets.entrySet()) {
            List<Node> nodes = List.of(node("n", e.getKey(), List.of("x"), "y"));
            ModelProto qdq = qdqFile(nodes, Map.of(), e.getValue());
            Layer l = only(Simulator.compile(qdq, "q", CompileOptions.DEFAULT), e.getKey());
            assertEquals(Placement.NPU, l.placement(), e.getKey());
            assertLutCoarseReaches(qdq, e.getKey());
        }
    }

    @Test
    void upsampleOfAnOpset10QdqFileIsDataMovement() throws Exception {
        // The QDQ writer raises such a model to opset 11 and writes Resize; a file quantized
        // elsewhere at opset 10 keeps Upsample.
        Map<String, Tensor> k = new LinkedHashMap<>();
        k.put("s", Tensor.scalar(0.05f));
        k.put("zp", Tensor.ofLongs(DType.INT8, new int[0], new long[] {0}));
        k.put("scales", Tensor.ofFloats(new int[] {4}, new float[] {1, 1, 2, 2}));
        List<Node> nodes = List.of(
                node("q", "QuantizeLinear", List.of("x", "s", "zp"), "xq"),
                node("dq", "DequantizeLinear", List.of("xq", "s", "zp"), "xd"),
                new Node(
                        "up",
                        "Upsample",
                        "",
                        List.of("xd", "scales"),
                        List.of("u"),
                        Map.of("mode", Attribute.ofString("nearest"))),
                node("q2", "QuantizeLinear", List.of("u", "s", "zp"), "uq"),
                node("dq2", "DequantizeLinear", List.of("uq", "s", "zp"), "y"));
        Graph g = new Graph(
                "up",
                nodes,
                k,
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, 1, 4, 4})),
                List.of("y"),
                Map.of("", 10));
        NpuProgram p = Simulator.compile(OnnxGraphs.toModel(g, "test", Map.of()), "up", CompileOptions.DEFAULT);
        assertEquals(Placement.NPU, only(p, "Upsample").placement());
    }

    /** Placements seen per op over the backend node cases, and why cases were not checked. */
    private static final class Seen {
        final Map<String, TreeSet<Placement>> placements = new TreeMap<>();
        final List<String> unchecked = new ArrayList<>();
    }

    @Test
    void backendNodeCasesAreBoundAsTheTableSays() throws Exception {
        Path suite = SharedData.require("testdata/onnx-backend/node");
        List<Path> cases;
        try (Stream<Path> s = Files.list(suite)) {
            cases = s.filter(p -> Files.isRegularFile(p.resolve("model.onnx")))
                    .sorted()
                    .toList();
        }
        Seen seen = new Seen();
        for (Path dir : cases) {
            bindCase(dir, seen);
        }
        List<String> wrong = new ArrayList<>();
        seen.placements.forEach((op, places) -> {
            NpuForm form = OpTraits.of(op).form();
            if (!form.onNpu() && places.contains(Placement.NPU)) {
                wrong.add(op + ": the table says " + form.label() + ", the binding placed it on the NPU");
            }
            if (form.onNpu() && !places.contains(Placement.NPU)) {
                wrong.add(op + ": the table says " + form.label() + ", the binding placed every case on the CPU");
            }
        });
        // Ops the node cases cannot show on the NPU are checked by the tests above.
        List<String> built = List.of("Gelu", "Mish", "Upsample");
        for (OpTraits.Op o : OpTraits.ops()) {
            if (o.form().onNpu() && !seen.placements.containsKey(o.name()) && !built.contains(o.name())) {
                wrong.add(o.name() + ": " + o.form().label() + " in the table, but no case checked it");
            }
        }
        System.out.println(
                "op binding: " + seen.placements.size() + " ops over " + cases.size() + " cases; not checked: "
                        + seen.unchecked.size() + (seen.unchecked.isEmpty() ? "" : " " + seen.unchecked));
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
        // A case the compiler crashes on is a bug of the binding (a Gemm's one-element C once was).
        assertTrue(seen.unchecked.isEmpty(), "the binding failed on " + seen.unchecked);
    }

    /**
     * Quantizes a single-node case twice (first input at run time and the others constant, as a
     * Conv's weights are; then every float input at run time, as an Add's operands are) and records
     * where the compiler placed the node's layer.
     */
    private static void bindCase(Path dir, Seen seen) {
        String name = dir.getFileName().toString();
        try {
            ModelProto model = OnnxGraphs.readModel(dir.resolve("model.onnx"));
            for (ValueInfoProto v : model.getGraph().getInputList()) {
                if (v.hasType() && !v.getType().hasTensorType()) {
                    return; // sequences and optionals have no tensor form
                }
            }
            Graph g = OnnxGraphs.toGraph(model, dir);
            if (g.nodes().size() != 1
                    || !g.nodes().get(0).domain().isEmpty()
                    || !FloatKernels.supports(g.nodes().get(0).opType())) {
                return;
            }
            Node n = g.nodes().get(0);
            Map<String, Tensor> values = new HashMap<>(g.constants());
            for (int i = 0; i < g.inputs().size(); i++) {
                Path f = dir.resolve("test_data_set_0/input_" + i + ".pb");
                if (Files.exists(f)) {
                    values.put(g.inputs().get(i).name(), TensorProtos.toTensor(TensorProtos.readFile(f), dir));
                }
            }
            // Opsets before 7 have no QDQ form; the ops of those cases read the same at 11.
            int opset = g.opset() < 7 ? 11 : g.opset();
            for (boolean allRuntime : new boolean[] {false, true}) {
                Placement p = bindVariant(n, g, values, opset, allRuntime);
                if (p != null) {
                    seen.placements
                            .computeIfAbsent(n.opType(), k -> new TreeSet<>())
                            .add(p);
                }
            }
        } catch (SimulatorException | IllegalArgumentException | java.io.IOException e) {
            // A case the quantizer or compiler refuses (a data type, an attribute) shows no binding.
            return;
        } catch (RuntimeException e) {
            seen.unchecked.add(name + " (" + e + ")");
        }
    }

    private static Placement bindVariant(Node node, Graph g, Map<String, Tensor> values, int opset, boolean allRuntime)
            throws SimulatorException {
        // LayerNormalization's Mean and InvStdDev are for training; inference graphs leave them out.
        Node n = node.opType().equals("LayerNormalization") && node.outputs().size() > 1
                ? new Node(
                        node.name(),
                        node.opType(),
                        node.domain(),
                        node.inputs(),
                        List.of(node.output(0)),
                        node.attributes())
                : node;
        Map<String, Tensor> constants = new LinkedHashMap<>(g.constants());
        List<ValueInfo> inputs = new ArrayList<>();
        Map<String, Tensor> feed = new HashMap<>();
        for (int i = 0; i < n.inputs().size(); i++) {
            String in = n.input(i);
            Tensor t = n.hasInput(i) && !g.isConstant(in) ? values.get(in) : null;
            if (t == null || feed.containsKey(in) || constants.containsKey(in)) {
                continue;
            }
            if (t.isFloating() && (allRuntime || i == 0)) {
                inputs.add(new ValueInfo(in, t.dtype(), t.shape()));
                feed.put(in, t);
            } else {
                constants.put(in, t);
            }
        }
        if (inputs.isEmpty() || (allRuntime && inputs.size() < 2)) {
            return null; // nothing quantizable, or the same program as the first variant
        }
        List<String> outputs = n.outputs().stream().filter(o -> !o.isEmpty()).toList();
        Graph one = new Graph("case", List.of(n), constants, inputs, outputs, Map.of("", opset));
        NpuProgram fp = Simulator.compile(OnnxGraphs.toModel(one, "case", Map.of()), "case", CompileOptions.DEFAULT);
        if (fp.layers().size() != 1) {
            return null; // folded away (a constant result)
        }
        Calibration cal = Calibration.collect(fp, List.of(feed), x -> {});
        NpuProgram q =
                Simulator.compile(QdqWriter.write(fp, cal, QuantConfig.INT8), "case.qdq", CompileOptions.DEFAULT);
        return q.layers().stream()
                .filter(l -> l.op().equals(n.opType()))
                .map(Layer::placement)
                .findFirst()
                .orElse(null);
    }
}
