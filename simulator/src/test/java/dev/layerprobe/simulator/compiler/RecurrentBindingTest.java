package dev.layerprobe.simulator.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.onnx.TensorProtos;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.RequantMode;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.quant.QuantConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * One LSTM, GRU or RNN node quantized int8 by the QDQ writer: with the default
 * {@code requant: fixed} it is one integer layer on the NPU whose outputs stay within a few codes of
 * the float layer's (the CPU form, what {@code requant: float} keeps, as ONNX Runtime runs it); an
 * initial state computed at run time is read as such; an activation without a table, and a weight
 * computed at run time, keep the layer on the CPU; {@code recurrent_state: int8} changes the codes;
 * the {@code rnn_gate_order} fault reads the gate blocks in PyTorch's order, and an RNN refuses it.
 */
class RecurrentBindingTest {
    private static final int SEQ = 10;
    private static final int BATCH = 2;
    private static final int INPUT = 6;
    private static final int HIDDEN = 8;

    private static final DeviceProfile FLOAT = DeviceProfile.DEFAULT.withRequant(RequantMode.FLOAT);

    private static Tensor random(Random r, double sigma, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (sigma * r.nextGaussian());
        }
        return Tensor.ofFloats(shape, v);
    }

    /** A bidirectional node; {@code h0} at run time when asked; the activations when given. */
    private static Graph model(String op, boolean runtimeState, String... activations) {
        Random r = new Random(op.hashCode());
        int gates = op.equals("LSTM") ? 4 : op.equals("GRU") ? 3 : 1;
        Map<String, Tensor> k = new LinkedHashMap<>();
        k.put("W", random(r, 1 / Math.sqrt(INPUT), 2, gates * HIDDEN, INPUT));
        k.put("R", random(r, 0.8 / Math.sqrt(HIDDEN), 2, gates * HIDDEN, HIDDEN));
        k.put("B", random(r, 0.3, 2, 2 * gates * HIDDEN));
        k.put("lens", Tensor.ofLongs(DType.INT32, new int[] {BATCH}, new long[] {SEQ, 6}));
        List<ValueInfo> inputs =
                new ArrayList<>(List.of(new ValueInfo("X", DType.FLOAT32, new int[] {SEQ, BATCH, INPUT})));
        if (runtimeState) {
            inputs.add(new ValueInfo("h0", DType.FLOAT32, new int[] {2, BATCH, HIDDEN}));
        }
        Map<String, Attribute> attrs = new HashMap<>();
        attrs.put("direction", Attribute.ofString("bidirectional"));
        attrs.put("hidden_size", Attribute.ofInt(HIDDEN));
        if (activations.length > 0) {
            attrs.put("activations", Attribute.ofStrings(activations));
        }
        List<String> outs = op.equals("LSTM") ? List.of("Y", "Y_h", "Y_c") : List.of("Y", "Y_h");
        Node n = new Node("rec", op, "", List.of("X", "W", "R", "B", "lens", runtimeState ? "h0" : ""), outs, attrs);
        return new Graph("rec", new ArrayList<>(List.of(n)), k, inputs, new ArrayList<>(outs), Map.of("", 14));
    }

    private static Map<String, Tensor> feed(boolean runtimeState) {
        Random r = new Random(3);
        Map<String, Tensor> f = new HashMap<>();
        f.put("X", random(r, 1, SEQ, BATCH, INPUT));
        if (runtimeState) {
            Tensor h = random(r, 0.3, 2, BATCH, HIDDEN);
            f.put("h0", h);
        }
        return f;
    }

    private static ModelProto qdq(Graph g, Map<String, Tensor> feed) throws Exception {
        NpuProgram fp = Simulator.compile(OnnxGraphs.toModel(g, "test", Map.of()), "rec", CompileOptions.DEFAULT);
        return QdqWriter.write(fp, Calibration.collect(fp, List.of(feed), n -> {}), QuantConfig.INT8);
    }

    private static Layer recurrent(NpuProgram p) {
        return p.layers().stream()
                .filter(l -> RecurrentLayers.OPS.contains(l.op()))
                .findFirst()
                .orElseThrow();
    }

    /** The largest code difference between two runs' values of every tensor both quantize alike. */
    private static long maxLsb(Map<String, LayerValue> a, Map<String, LayerValue> b, String tensor) {
        int[] x = a.get(tensor).codes().codes();
        int[] y = b.get(tensor).codes().codes();
        assertTrue(
                a.get(tensor).codes().params().sameMapping(b.get(tensor).codes().params()), tensor);
        long max = 0;
        for (int i = 0; i < x.length; i++) {
            max = Math.max(max, Math.abs((long) x[i] - y[i]));
        }
        return max;
    }

    @Test
    void eachRecurrentOpIsAnIntegerLayerUnderFixedAndStaysFloatUnderFloat() throws Exception {
        for (String op : List.of("LSTM", "GRU", "RNN")) {
            for (boolean runtimeState : new boolean[] {false, true}) {
                Map<String, Tensor> feed = feed(runtimeState);
                ModelProto q = qdq(model(op, runtimeState), feed);
                NpuProgram npu = Simulator.compile(q, "rec", CompileOptions.DEFAULT);
                NpuProgram cpu = Simulator.compile(q, "rec", CompileOptions.of(FLOAT));
                String what = op + (runtimeState ? " with h0 at run time" : "");
                assertEquals(Placement.NPU, recurrent(npu).placement(), what);
                assertEquals(Placement.CPU, recurrent(cpu).placement(), what + " under requant: float");
                assertEquals(
                        runtimeState ? List.of("X", "h0") : List.of("X"),
                        stripQdq(recurrent(npu).inputs()));
                Map<String, LayerValue> a = npu.run(feed, (l, v) -> {});
                Map<String, LayerValue> b = cpu.run(feed, (l, v) -> {});
                long y = maxLsb(a, b, "Y");
                // Nothing quantizes Y_h: the NPU gives its state codes (Q0.15), the CPU float.
                double yh = maxAbs(a.get("Y_h").real(), b.get("Y_h").real());
                double lsb = a.get("Y").codes().params().scale(0);
                System.out.printf(
                        "%s: integer against float layer, Y max %d LSB, Y_h max |diff| %.4f (%.2f LSB of Y)%n",
                        what, y, yh, yh / lsb);
                assertTrue(y <= 3 && yh <= 3 * lsb, what + ": Y " + y + ", Y_h " + yh);
            }
        }
    }

    @Test
    void anActivationWithoutATableKeepsTheLayerOnTheCpu() throws Exception {
        Map<String, Tensor> feed = feed(false);
        ModelProto q = qdq(model("RNN", false, "Relu", "Tanh"), feed);
        assertEquals(
                Placement.CPU,
                recurrent(Simulator.compile(q, "rec", CompileOptions.DEFAULT)).placement());
        q = qdq(model("RNN", false, "Softsign", "Tanh"), feed);
        assertEquals(
                Placement.NPU,
                recurrent(Simulator.compile(q, "rec", CompileOptions.DEFAULT)).placement());
    }

    @Test
    void anInt8StateGivesOtherCodesThanTheDefault() throws Exception {
        Map<String, Tensor> feed = feed(false);
        ModelProto q = qdq(model("GRU", false), feed);
        DeviceProfile int8 = DeviceProfile.parse("name: n\nrecurrent_state: int8\n", "t");
        Map<String, LayerValue> wide =
                Simulator.compile(q, "rec", CompileOptions.DEFAULT).run(feed, (l, v) -> {});
        Map<String, LayerValue> narrow =
                Simulator.compile(q, "rec", CompileOptions.of(int8)).run(feed, (l, v) -> {});
        long d = maxLsb(wide, narrow, "Y");
        assertTrue(d > 0 && d <= 3, "Y differs by " + d);
        assertEquals(DType.INT16, wide.get("Y_h").codes().params().type(), "Y_h in the state's format");
        assertEquals(DType.INT8, narrow.get("Y_h").codes().params().type(), "Y_h in the state's format");
        assertFalse(maxAbs(wide.get("Y_h").real(), narrow.get("Y_h").real()) == 0);
    }

    @Test
    void gateOrderFaultIsTheFileWithItsBlocksStackedAsAPyTorchOrderDeviceReadsThem() throws Exception {
        Map<String, int[]> pytorchReading = Map.of("GRU", new int[] {1, 0, 2}, "LSTM", new int[] {0, 3, 1, 2});
        DeviceProfile faulty = DeviceProfile.parse("name: f\nfaults:\n  - kind: rnn_gate_order\n    layer: Y\n", "t");
        for (Map.Entry<String, int[]> e : pytorchReading.entrySet()) {
            Map<String, Tensor> feed = feed(false);
            ModelProto q = qdq(model(e.getKey(), false), feed);
            ModelProto.Builder reordered = q.toBuilder();
            for (TensorProto.Builder t : reordered.getGraphBuilder().getInitializerBuilderList()) {
                int block = switch (t.getName()) {
                    case "W" -> HIDDEN * INPUT;
                    case "R" -> HIDDEN * HIDDEN;
                    case "B" -> HIDDEN;
                    default -> 0;
                };
                if (block > 0) {
                    Tensor v = TensorProtos.toTensor(t.build());
                    TensorProto swapped = TensorProtos.fromTensor(t.getName(), blocks(v, e.getValue(), block));
                    t.clear().mergeFrom(swapped);
                }
            }
            Map<String, LayerValue> faulted =
                    Simulator.compile(q, "rec", CompileOptions.of(faulty)).run(feed, (l, v) -> {});
            Map<String, LayerValue> clean =
                    Simulator.compile(q, "rec", CompileOptions.DEFAULT).run(feed, (l, v) -> {});
            Map<String, LayerValue> pytorch = Simulator.compile(reordered.build(), "rec", CompileOptions.DEFAULT)
                    .run(feed, (l, v) -> {});
            assertEquals(0, maxLsb(faulted, pytorch, "Y"), e.getKey());
            assertTrue(maxLsb(faulted, clean, "Y") > 10, e.getKey() + ": the fault changes the output");
        }
        ModelProto rnn = qdq(model("RNN", false), feed(false));
        SimulatorException x =
                assertThrows(SimulatorException.class, () -> Simulator.compile(rnn, "rec", CompileOptions.of(faulty)));
        assertEquals("fault rnn_gate_order applies to [LSTM, GRU], but layer 'Y' is RNN", x.getMessage());
    }

    /** Gate blocks of every group (direction, or half of B) stacked so that position p holds block order[p]. */
    private static Tensor blocks(Tensor t, int[] order, int block) {
        float[] v = t.floats();
        float[] out = new float[v.length];
        int group = order.length * block;
        for (int g = 0; g < v.length / group; g++) {
            for (int p = 0; p < order.length; p++) {
                System.arraycopy(v, g * group + order[p] * block, out, g * group + p * block, block);
            }
        }
        return Tensor.ofFloats(t.shape(), out);
    }

    private static double maxAbs(Tensor a, Tensor b) {
        float[] x = a.floats();
        float[] y = b.floats();
        double max = 0;
        for (int i = 0; i < x.length; i++) {
            max = Math.max(max, Math.abs(x[i] - y[i]));
        }
        return max;
    }

    /** Layer input names without the QDQ writer's suffix. */
    private static List<String> stripQdq(List<String> names) {
        return names.stream()
                .map(s -> s.replace("_DequantizeLinear_Output", ""))
                .toList();
    }
}
