package dev.layerprobe.simulator.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.LayerPrecision;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.quant.QuantConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * An If's branches compiled as layers of the program: calibrated on the branch each sample takes,
 * written quantized inside the branch, bound to integer kernels (and faults) like any other layer,
 * in their own precision under a hybrid file; and the one case where they cannot be layers.
 */
class IfLayersTest {
    private static final int[] X = {1, 3, 8, 8};

    /**
     * y = If(ReduceSum(x) > 0) then Relu(Conv(x, w_then)) else Sigmoid(Conv(x, w_else)); both weights
     * are constants of the main graph, read from the branches. {@code sameNames} names both
     * branches' values alike, which ONNX allows (neither branch sees the other).
     */
    private static ModelProto model(boolean sameNames) {
        Random r = new Random(3);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        weights.put("w_then", random(r, 4, 3, 3, 3));
        weights.put("w_else", random(r, 4, 3, 3, 3));
        weights.put("zero", Tensor.scalar(0f));
        String t = sameNames ? "" : "then_";
        String e = sameNames ? "" : "else_";
        Graph then = branch(
                "then",
                new Node("then_conv_node", "Conv", "", List.of("x", "w_then"), List.of(t + "conv"), pads()),
                new Node("then_relu_node", "Relu", "", List.of(t + "conv"), List.of(t + "out"), Map.of()));
        Graph otherwise = branch(
                "else",
                new Node("else_conv_node", "Conv", "", List.of("x", "w_else"), List.of(e + "conv"), pads()),
                new Node("else_sigmoid_node", "Sigmoid", "", List.of(e + "conv"), List.of(e + "out"), Map.of()));
        List<Node> nodes = new ArrayList<>();
        nodes.add(new Node("sum", "ReduceSum", "", List.of("x"), List.of("s"), Map.of("keepdims", Attribute.ofInt(0))));
        nodes.add(new Node("gt", "Greater", "", List.of("s", "zero"), List.of("c"), Map.of()));
        nodes.add(new Node(
                "gate",
                "If",
                "",
                List.of("c"),
                List.of("y"),
                Map.of("then_branch", Attribute.ofGraph(then), "else_branch", Attribute.ofGraph(otherwise))));
        Graph g = new Graph(
                "if_layers",
                nodes,
                weights,
                List.of(new ValueInfo("x", DType.FLOAT32, X)),
                List.of("y"),
                Map.of("", 13));
        return OnnxGraphs.toModel(g, "test", Map.of());
    }

    private static Graph branch(String name, Node... nodes) {
        String out = nodes[nodes.length - 1].output(0);
        Graph g = new Graph(name, List.of(nodes), Map.of(), List.of(), List.of(out), Map.of("", 13));
        g.outputInfos().put(out, new ValueInfo(out, DType.FLOAT32, null));
        return g;
    }

    private static Map<String, Attribute> pads() {
        return Map.of("pads", Attribute.ofInts(1, 1, 1, 1));
    }

    private static Tensor random(Random r, int... shape) {
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

    /** An input whose sum has the sign given (the then branch for +1). */
    private static Map<String, Tensor> input(float sign, int seed) {
        Random r = new Random(seed);
        float[] v = new float[3 * 8 * 8];
        for (int i = 0; i < v.length; i++) {
            v[i] = sign * (0.2f + r.nextFloat());
        }
        return Map.of("x", Tensor.ofFloats(X, v));
    }

    private static ModelProto quantize(NpuProgram fp, Calibration c, QuantConfig config) throws Exception {
        return QdqWriter.write(fp, c, config);
    }

    @Test
    void branchLayersAreLayersOfTheFloatProgram() throws Exception {
        NpuProgram fp = Simulator.compile(model(false), "if", CompileOptions.DEFAULT);
        Layer then = fp.layer("then_out").orElseThrow();
        assertEquals("Conv+Relu", then.opLabel());
        assertEquals("then_branch of gate", then.attributes().get("in_branch"));
        assertEquals(List.of("x"), then.inputs(), "the outer input; the weight is bound as a constant");
        Map<String, LayerValue> seen = new LinkedHashMap<>();
        fp.run(input(-1f, 1), (l, v) -> seen.put(l.name(), v));
        assertEquals(List.of("s", "c", "else_conv", "else_out", "y"), List.copyOf(seen.keySet()), "the branch taken");
        // A branch layer also runs alone, as per_layer and RunLayer run it.
        LayerValue alone = fp.runLayer("else_conv", input(-1f, 1));
        assertTrue(java.util.Arrays.equals(
                seen.get("else_conv").real().floats(), alone.real().floats()));
    }

    @Test
    void calibrationSeesTheBranchTakenAndTheQuantizerWritesItInside() throws Exception {
        NpuProgram fp = Simulator.compile(model(false), "if", CompileOptions.DEFAULT);
        // Only inputs that take the then branch: the else branch has no ranges and stays float.
        Calibration c = Calibration.collect(fp, List.of(input(1f, 1), input(1f, 2)), n -> {});
        assertNotNull(c.range("then_out"));
        assertNull(c.range("else_out"));
        ModelProto qdq = quantize(fp, c, QuantConfig.INT8);
        NpuProgram q = Simulator.compile(qdq, "if.qdq", CompileOptions.DEFAULT);
        Layer then = q.layer("then_out").orElseThrow();
        assertEquals(Placement.NPU, then.placement());
        assertTrue(q.quantOf("y").sameMapping(then.outputQuant()), "the branch output in the If's quantization");
        assertEquals(Placement.CPU, q.layer("else_out").orElseThrow().placement(), "uncalibrated: float");
        assertEquals(Placement.CPU, q.layer("y").orElseThrow().placement(), "the If decided on the CPU");
        Map<String, Tensor> x = input(1f, 5);
        float[] ref = fp.run(x, (l, v) -> {}).get("y").real().floats();
        float[] got = q.run(x, (l, v) -> {}).get("y").real().floats();
        double err = 0;
        for (int i = 0; i < ref.length; i++) {
            err = Math.max(err, Math.abs(ref[i] - got[i]));
        }
        assertTrue(err < 4 * q.quantOf("y").scale(0), "max error " + err);
        // The other branch still runs (on inputs clipped to the calibrated range), its float result
        // quantized to the If's output.
        List<String> seen = new ArrayList<>();
        LayerValue y = q.run(input(-1f, 5), (l, v) -> seen.add(l.name())).get("y");
        assertTrue(y.isQuantized() && y.codes().params().sameMapping(q.quantOf("y")));
        assertEquals(List.of("s", "c", "else_conv", "else_out", "y"), seen);
    }

    @Test
    void aFaultOnABranchLayerChangesItsCodesAlone() throws Exception {
        NpuProgram fp = Simulator.compile(model(false), "if", CompileOptions.DEFAULT);
        Calibration c = Calibration.collect(fp, List.of(input(1f, 1), input(-1f, 2)), n -> {});
        ModelProto qdq = quantize(fp, c, QuantConfig.INT8);
        NpuProgram clean = Simulator.compile(qdq, "if.qdq", CompileOptions.DEFAULT);
        DeviceProfile faulty = DeviceProfile.parse(
                "name: faulty\nfaults:\n  - kind: requant_shift_off_by_one\n    layer: then_out\n", "test");
        NpuProgram device = Simulator.compile(qdq, "if.qdq", CompileOptions.of(faulty));
        Map<String, LayerValue> a = new LinkedHashMap<>();
        Map<String, LayerValue> b = new LinkedHashMap<>();
        clean.run(input(1f, 9), (l, v) -> a.put(l.name(), v));
        device.run(input(1f, 9), (l, v) -> b.put(l.name(), v));
        assertEquals(a.keySet(), b.keySet());
        for (String layer : a.keySet()) {
            boolean same = java.util.Arrays.equals(
                    a.get(layer).real().toFloat().floats(),
                    b.get(layer).real().toFloat().floats());
            boolean downstream = layer.equals("then_out") || layer.equals("y");
            assertEquals(!downstream, same, layer);
        }
    }

    @Test
    void aBranchLayerTakesItsOwnPrecisionFromAHybridFile() throws Exception {
        NpuProgram fp = Simulator.compile(model(false), "if", CompileOptions.DEFAULT);
        Calibration c = Calibration.collect(fp, List.of(input(1f, 1), input(-1f, 2)), n -> {});
        ModelProto qdq = quantize(fp, c, QuantConfig.INT8.withOverrides(Map.of("else_out", LayerPrecision.INT16)));
        assertTrue(
                qdq.getOpsetImportList().stream().anyMatch(o -> o.getDomain().equals("com.microsoft")),
                "int16 Q/DQ inside the branch import their domain in the model");
        NpuProgram q = Simulator.compile(qdq, "if.qdq", CompileOptions.DEFAULT);
        assertEquals(LayerPrecision.INT16, q.layer("else_out").orElseThrow().precision());
        assertEquals(LayerPrecision.INT8, q.layer("then_out").orElseThrow().precision());
    }

    @Test
    void anFp16ProgramRunsItsBranchesInFp16() throws Exception {
        NpuProgram fp = Simulator.compile(model(false), "if", CompileOptions.DEFAULT);
        Calibration c = Calibration.collect(fp, List.of(input(1f, 1), input(-1f, 2)), n -> {});
        NpuProgram q = Simulator.compile(quantize(fp, c, QuantConfig.FP16), "if.fp16", CompileOptions.DEFAULT);
        for (String layer : List.of("then_out", "else_conv", "else_out", "y")) {
            assertEquals(LayerPrecision.FP16, q.layer(layer).orElseThrow().precision(), layer);
        }
        for (float sign : new float[] {1f, -1f}) {
            float[] ref = fp.run(input(sign, 6), (l, v) -> {}).get("y").real().floats();
            float[] got = q.run(input(sign, 6), (l, v) -> {}).get("y").real().floats();
            for (int i = 0; i < ref.length; i++) {
                assertEquals(ref[i], got[i], 0.01f, "sign " + sign + ", element " + i);
            }
        }
    }

    @Test
    void branchesSharingValueNamesStayOneFloatLayer() throws Exception {
        NpuProgram fp = Simulator.compile(model(true), "if", CompileOptions.DEFAULT);
        assertFalse(fp.branchOwner("out").isPresent());
        assertEquals(
                List.of("s", "c", "y"), fp.layers().stream().map(Layer::name).toList());
        Calibration c = Calibration.collect(fp, List.of(input(1f, 1), input(-1f, 2)), n -> {});
        NpuProgram q = Simulator.compile(quantize(fp, c, QuantConfig.INT8), "if.qdq", CompileOptions.DEFAULT);
        assertEquals(3, q.layers().size());
        float[] ref = fp.run(input(-1f, 4), (l, v) -> {}).get("y").real().floats();
        float[] got = q.run(input(-1f, 4), (l, v) -> {}).get("y").real().floats();
        for (int i = 0; i < ref.length; i++) {
            assertEquals(ref[i], got[i], 0.02f, "element " + i);
        }
    }
}
