package dev.layerprobe.host.golden;

import static dev.layerprobe.host.golden.OnnxNodes.graphAttr;
import static dev.layerprobe.host.golden.OnnxNodes.intAttr;
import static dev.layerprobe.host.golden.OnnxNodes.ints;
import static dev.layerprobe.host.golden.OnnxNodes.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.onnx.Onnx.AttributeProto;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.onnx.TensorProtos;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.quant.QuantConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A whole model with control flow, in float, against ONNX Runtime: an If whose branches hold Conv
 * and Relu layers (chosen by the sign of the input's sum), a Loop whose body reads an outer value,
 * and a Scan. The branch layers come out of the simulator's run as layers of their own; ONNX
 * Runtime cannot expose values inside a subgraph, so the golden side compares the If, Loop and Scan
 * outputs and every top-level layer.
 */
public class ControlFlowVsOrtTest {
    private static final int[] X = {1, 3, 8, 8};

    @Test
    void ifLoopAndScanMatchOnnxRuntime() throws Exception {
        ModelProto model = model();
        NpuProgram sim = Simulator.compile(model, "cflow.onnx", CompileOptions.DEFAULT);
        try (GoldenRunner golden = GoldenRunner.of(model, "cflow.onnx")) {
            for (float sign : new float[] {1f, -1f}) {
                Tensor x = input(sign);
                Map<String, Tensor> feeds = Map.of("x", x);
                Map<String, Tensor> g = golden.run(feeds);
                Map<String, Tensor> seen = new LinkedHashMap<>();
                List<String> worse = new ArrayList<>();
                sim.run(feeds, (layer, v) -> {
                    seen.put(layer.name(), v.real());
                    Tensor ref = g.get(layer.name());
                    if (ref == null) {
                        // The golden runner keeps float values only; branch layers have none.
                        boolean branch = sim.branchOwner(layer.name()).isPresent();
                        assertTrue(branch || !v.real().isFloating(), "no golden value for " + layer.name());
                        return;
                    }
                    double cos = Metrics.compare(ref, v.real()).cos();
                    if (cos < 0.99999) {
                        worse.add(layer.name() + " cos " + cos);
                    }
                });
                assertTrue(worse.isEmpty(), "layers below cos 0.99999: " + worse);
                String taken = sign > 0 ? "then" : "else";
                String other = sign > 0 ? "else" : "then";
                // The branch's Conv and Relu are one layer, as at the top level, named by the Relu's output.
                assertTrue(
                        seen.containsKey(taken + "_relu") && !seen.containsKey(taken + "_conv"),
                        seen.keySet().toString());
                assertTrue(!seen.containsKey(other + "_relu"), seen.keySet().toString());
                assertTrue(Metrics.compare(g.get("branch_out"), seen.get(taken + "_relu"))
                                .cos()
                        >= 0.99999);
                for (String out : List.of("branch_out", "loop_out", "scan_state", "y")) {
                    assertNotNull(seen.get(out), out);
                    double cos = Metrics.compare(g.get(out), seen.get(out)).cos();
                    System.out.printf("control flow, %s branch: %s cos %.8f%n", taken, out, cos);
                    assertTrue(cos >= 0.99999, out + " cos " + cos);
                }
            }
        }
        Layer conv = sim.layer("then_relu").orElseThrow();
        assertEquals("Conv+Relu", conv.opLabel());
        assertEquals(List.of("then_conv_node", "then_relu_node"), conv.fusedNodes());
        assertTrue(conv.index() < sim.layer("branch_out").orElseThrow().index());
        assertEquals(Optional.of("branch_out"), sim.branchOwner("then_relu"));
    }

    /**
     * The quantizer writes each If branch's layers quantized inside the branch and leaves the Loop and
     * Scan bodies float: ONNX Runtime loads and runs the QDQ file, the quantized program runs the
     * branch's Conv+Relu on the NPU under its own name with the If decided on the CPU, and agrees
     * with ONNX Runtime.
     */
    @Test
    void qdqFileQuantizesTheBranchesAndKeepsTheBodiesFloat() throws Exception {
        NpuProgram fp = Simulator.compile(model(), "cflow.onnx", CompileOptions.DEFAULT);
        Calibration calibration =
                Calibration.collect(fp, List.of(Map.of("x", input(1f)), Map.of("x", input(-1f))), n -> {});
        ModelProto qdq = QdqWriter.write(fp, calibration, QuantConfig.INT8);
        NodeProto ifNode = only(qdq.getGraph(), "If");
        for (AttributeProto branch : ifNode.getAttributeList()) {
            List<String> ops = branch.getG().getNodeList().stream()
                    .map(NodeProto::getOpType)
                    .toList();
            assertTrue(
                    ops.contains("Conv") && ops.contains("QuantizeLinear") && ops.contains("DequantizeLinear"),
                    branch.getName() + ": " + ops);
            assertTrue(
                    branch.getG().getInitializerList().stream()
                            .anyMatch(t -> t.getDataType() == TensorProto.DataType.INT8_VALUE),
                    branch.getName() + " holds its weight's int8 codes");
        }
        for (String body : List.of("Loop", "Scan")) {
            assertTrue(
                    only(qdq.getGraph(), body).getAttribute(0).getG().getNodeList().stream()
                            .noneMatch(n -> n.getOpType().endsWith("QuantizeLinear")),
                    body + " body stays float");
        }
        NpuProgram q = Simulator.compile(qdq, "cflow.qdq.onnx", CompileOptions.DEFAULT);
        assertTrue(q.isQuantized());
        assertEquals(Placement.CPU, q.layer("branch_out").orElseThrow().placement());
        for (String branch : List.of("then_relu", "else_relu")) {
            Layer l = q.layer(branch).orElseThrow();
            assertEquals(Placement.NPU, l.placement(), branch);
            assertEquals("Conv+Relu", l.opLabel(), branch);
            assertEquals(Optional.of("branch_out"), q.branchOwner(branch));
            assertTrue(
                    q.quantOf("branch_out").sameMapping(l.outputQuant()), "the branch output in the If's quantization");
        }
        try (GoldenRunner ort = GoldenRunner.of(qdq, "cflow.qdq.onnx");
                GoldenRunner golden = GoldenRunner.of(model(), "cflow.onnx")) {
            for (float sign : new float[] {1f, -1f}) {
                Map<String, Tensor> feeds = Map.of("x", input(sign));
                Tensor ortY = ort.run(feeds).get("y");
                Tensor simY = q.run(feeds, (l, v) -> {}).get("y").real();
                double cos = Metrics.compare(ortY, simY).cos();
                double vsFloat =
                        Metrics.compare(golden.run(feeds).get("y"), ortY).cos();
                System.out.printf(
                        "control flow QDQ, sign %.0f: simulator vs ONNX Runtime cos %.6f, vs float %.6f%n",
                        sign, cos, vsFloat);
                assertTrue(cos >= 0.99, "quantized simulator vs ONNX Runtime cos " + cos);
                assertTrue(vsFloat >= 0.98, "QDQ vs float cos " + vsFloat);
            }
        }
    }

    private static NodeProto only(GraphProto g, String op) {
        return g.getNodeList().stream()
                .filter(n -> n.getOpType().equals(op))
                .findFirst()
                .orElseThrow();
    }

    private static Tensor input(float sign) {
        Random r = new Random(7);
        float[] v = new float[3 * 8 * 8];
        for (int i = 0; i < v.length; i++) {
            v[i] = sign * (0.5f + r.nextFloat()) * (r.nextInt(5) == 0 ? -1 : 1);
        }
        return Tensor.ofFloats(X, v);
    }

    private static Tensor weights(int seed, int... shape) {
        Random r = new Random(seed);
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian() * 0.3f;
        }
        return Tensor.ofFloats(shape, v);
    }

    /** A branch: Conv (weights an initializer of the branch) then Relu, reading x from the outer graph. */
    private static GraphProto branch(String prefix, int seed) {
        return GraphProto.newBuilder()
                .setName(prefix + "_branch")
                .addInitializer(TensorProtos.fromTensor(prefix + "_w", weights(seed, 4, 3, 3, 3)))
                .addNode(node(
                        "Conv",
                        prefix + "_conv_node",
                        List.of("x", prefix + "_w"),
                        List.of(prefix + "_conv"),
                        ints("pads", 1, 1, 1, 1)))
                .addNode(node("Relu", prefix + "_relu_node", List.of(prefix + "_conv"), List.of(prefix + "_relu")))
                .addOutput(OnnxGraphs.valueInfoProto(prefix + "_relu", DType.FLOAT32, new int[] {1, 4, 8, 8}))
                .build();
    }

    /** The model of these tests; also analyzed end to end by the CLI tests. */
    public static ModelProto model() {
        GraphProto loopBody = GraphProto.newBuilder()
                .setName("loop_body")
                .addInput(OnnxGraphs.valueInfoProto("i", DType.INT64, new int[0]))
                .addInput(OnnxGraphs.valueInfoProto("c_in", DType.BOOL, new int[0]))
                .addInput(OnnxGraphs.valueInfoProto("acc_in", DType.FLOAT32, new int[] {1, 4, 8, 8}))
                .addNode(node("Identity", "c_pass", List.of("c_in"), List.of("c_out")))
                .addNode(node("Mul", "loop_scale", List.of("acc_in", "half"), List.of("acc_half")))
                .addNode(node("Add", "loop_add", List.of("acc_half", "branch_out"), List.of("acc_out")))
                .addOutput(OnnxGraphs.valueInfoProto("c_out", DType.BOOL, new int[0]))
                .addOutput(OnnxGraphs.valueInfoProto("acc_out", DType.FLOAT32, new int[] {1, 4, 8, 8}))
                .build();
        GraphProto scanBody = GraphProto.newBuilder()
                .setName("scan_body")
                .addInput(OnnxGraphs.valueInfoProto("s_in", DType.FLOAT32, new int[] {8}))
                .addInput(OnnxGraphs.valueInfoProto("row", DType.FLOAT32, new int[] {8}))
                .addNode(node("Add", "scan_add", List.of("s_in", "row"), List.of("s_out")))
                .addNode(node("Tanh", "scan_tanh", List.of("s_out"), List.of("row_out")))
                .addOutput(OnnxGraphs.valueInfoProto("s_out", DType.FLOAT32, new int[] {8}))
                .addOutput(OnnxGraphs.valueInfoProto("row_out", DType.FLOAT32, new int[] {8}))
                .build();
        GraphProto g = GraphProto.newBuilder()
                .setName("cflow")
                .addInput(OnnxGraphs.valueInfoProto("x", DType.FLOAT32, X))
                .addInitializer(TensorProtos.fromTensor("zero", Tensor.scalar(0f)))
                .addInitializer(TensorProtos.fromTensor("half", Tensor.scalar(0.5f)))
                .addInitializer(
                        TensorProtos.fromTensor("trips", Tensor.ofLongs(DType.INT64, new int[0], new long[] {3})))
                .addInitializer(TensorProtos.fromTensor("yes", Tensor.ofLongs(DType.BOOL, new int[0], new long[] {1})))
                .addInitializer(TensorProtos.fromTensor("s0", Tensor.ofFloats(new int[] {8}, new float[8])))
                .addInitializer(TensorProtos.fromTensor(
                        "rows_shape", Tensor.ofLongs(DType.INT64, new int[] {2}, new long[] {32, 8})))
                .addNode(node("ReduceSum", "sum_node", List.of("x"), List.of("sum"), intAttr("keepdims", 0)))
                .addNode(node("Greater", "cond_node", List.of("sum", "zero"), List.of("cond")))
                .addNode(node(
                        "If",
                        "branch_if",
                        List.of("cond"),
                        List.of("branch_out"),
                        graphAttr("then_branch", branch("then", 1)),
                        graphAttr("else_branch", branch("else", 2))))
                .addNode(node(
                        "Loop",
                        "loop",
                        List.of("trips", "yes", "branch_out"),
                        List.of("loop_out"),
                        graphAttr("body", loopBody)))
                .addNode(node("Reshape", "rows_node", List.of("loop_out", "rows_shape"), List.of("rows")))
                .addNode(node(
                        "Scan",
                        "scan",
                        List.of("s0", "rows"),
                        List.of("scan_state", "scan_out"),
                        graphAttr("body", scanBody),
                        intAttr("num_scan_inputs", 1)))
                .addNode(node("Sigmoid", "y_node", List.of("scan_out"), List.of("y")))
                .addOutput(OnnxGraphs.valueInfoProto("y", DType.FLOAT32, new int[] {32, 8}))
                .build();
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(g)
                .build();
    }
}
