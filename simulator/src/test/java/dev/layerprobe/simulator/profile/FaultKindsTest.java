package dev.layerprobe.simulator.profile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.ops.OpTraits;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.quant.QuantConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each profile fault kind of docs/architecture.md#device-profiles-and-faults on a small int8 program: the faulted layer departs from the
 * clean program in the way the device bug looks, every layer before it stays bit-identical.
 * <pre>
 * x -> Conv(3->8, 3x3) -> t1 -> Sigmoid -> s -> Conv(8->8, 3x3) -> t2 ---> Add -> a -> GlobalAveragePool -> gp
 *                                          s -> Conv(8->8, 1x1, equal positive weights) -> t3 /
 * x [1, 2, 4] -> Gemm(4->3) -> g
 * </pre>
 */
class FaultKindsTest {
    private static final int[] X = {1, 3, 8, 8};
    private static final int[] XG = {2, 4};
    private static final Map<String, Tensor> CONSTANTS = new LinkedHashMap<>();
    private static NpuProgram floatProgram;
    private static dev.layerprobe.onnx.Onnx.ModelProto qdq;
    private static NpuProgram clean;
    private static Map<String, Tensor> feed;
    private static Map<String, LayerValue> cleanRun;

    static Tensor random(int[] shape, long seed, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (lo + r.nextDouble() * (hi - lo));
        }
        return Tensor.ofFloats(shape, v);
    }

    static Map<String, Tensor> input(long seed) {
        return Map.of("x", random(X, seed, -1, 1), "xg", random(XG, seed + 100, -0.5, 1.5));
    }

    @BeforeAll
    static void build() throws Exception {
        CONSTANTS.put("w1", random(new int[] {8, 3, 3, 3}, 1, -1, 1));
        CONSTANTS.put("b1", random(new int[] {8}, 2, -1, 1));
        CONSTANTS.put("w2", random(new int[] {8, 8, 3, 3}, 3, -1, 1));
        CONSTANTS.put("b2", random(new int[] {8}, 4, -2, 2));
        float[] w3 = new float[64];
        for (int o = 0; o < 8; o++) {
            Arrays.fill(w3, o * 8, o * 8 + 8, 0.25f * (o + 1));
        }
        CONSTANTS.put("w3", Tensor.ofFloats(new int[] {8, 8, 1, 1}, w3));
        CONSTANTS.put("wg", random(new int[] {3, 4}, 5, -1, 1));
        CONSTANTS.put("bg", random(new int[] {3}, 6, -1, 1));
        Map<String, Attribute> pads = Map.of("pads", Attribute.ofInts(1, 1, 1, 1));
        List<Node> nodes = List.of(
                new Node("conv1", "Conv", "", List.of("x", "w1", "b1"), List.of("t1"), pads),
                new Node("sigmoid", "Sigmoid", "", List.of("t1"), List.of("s"), Map.of()),
                new Node("conv2", "Conv", "", List.of("s", "w2", "b2"), List.of("t2"), pads),
                new Node("conv3", "Conv", "", List.of("s", "w3"), List.of("t3"), Map.of()),
                new Node("add", "Add", "", List.of("t2", "t3"), List.of("a"), Map.of()),
                new Node("gap", "GlobalAveragePool", "", List.of("a"), List.of("gp"), Map.of()),
                new Node(
                        "gemm",
                        "Gemm",
                        "",
                        List.of("xg", "wg", "bg"),
                        List.of("g"),
                        Map.of("transB", Attribute.ofInt(1))));
        Graph g = new Graph(
                "faults",
                nodes,
                CONSTANTS,
                List.of(new ValueInfo("x", DType.FLOAT32, X), new ValueInfo("xg", DType.FLOAT32, XG)),
                List.of("gp", "g"),
                Map.of("", 13));
        floatProgram = Simulator.compile(OnnxGraphs.toModel(g, "test", Map.of()), "faults", CompileOptions.DEFAULT);
        Calibration cal = Calibration.collect(floatProgram, List.of(input(10), input(11)), n -> {});
        qdq = QdqWriter.write(floatProgram, cal, QuantConfig.INT8);
        clean = Simulator.compile(qdq, "faults.qdq", CompileOptions.of(DeviceProfile.DEFAULT));
        feed = input(20);
        cleanRun = run(clean, feed);
    }

    static Map<String, LayerValue> run(NpuProgram p, Map<String, Tensor> in) throws SimulatorException {
        Map<String, LayerValue> out = new LinkedHashMap<>();
        p.run(in, (layer, value) -> out.put(layer.name(), value));
        return out;
    }

    static DeviceProfile profile(String kind, String key, String target) throws SimulatorException {
        return DeviceProfile.parse(
                "name: x\nfaults:\n  - kind: " + kind + "\n    " + key + ": " + target + "\n", "test");
    }

    static NpuProgram faulted(String kind, String layer) throws SimulatorException {
        return Simulator.compile(qdq, "faults.qdq", CompileOptions.of(profile(kind, "layer", layer)));
    }

    /** Runs the faulted program; layers before {@code layer} are bit-identical, {@code layer} differs. */
    static Map<String, LayerValue> runAndCompare(NpuProgram p, String layer) throws SimulatorException {
        Map<String, LayerValue> f = run(p, feed);
        assertEquals(List.copyOf(cleanRun.keySet()), List.copyOf(f.keySet()));
        for (String name : cleanRun.keySet()) {
            if (name.equals(layer)) {
                break;
            }
            assertArrayEquals(codes(cleanRun, name), codes(f, name), name + " precedes the fault");
        }
        assertFalse(Arrays.equals(codes(cleanRun, layer), codes(f, layer)), layer + " must differ");
        return f;
    }

    static int[] codes(Map<String, LayerValue> run, String layer) {
        LayerValue v = run.get(layer);
        assertTrue(v != null && v.isQuantized(), layer + " is a quantized layer");
        return v.codes().codes();
    }

    static QuantParams q(String layer) {
        return clean.layer(layer).orElseThrow().outputQuant();
    }

    static boolean inside(int code, QuantParams q) {
        return code > q.qmin() && code < q.qmax();
    }

    @Test
    void everyKindParsesAndIsListed() throws Exception {
        StringBuilder y = new StringBuilder("name: all\nfaults:\n");
        for (FaultKind k : FaultKind.values()) {
            y.append("  - kind: ")
                    .append(k.yamlName())
                    .append("\n    op: \"")
                    .append(OpTraits.faultTargets(k).get(0))
                    .append("\"\n");
        }
        DeviceProfile p = DeviceProfile.parse(y.toString(), "test");
        assertEquals(
                List.of(FaultKind.values()),
                p.faults().stream().map(Fault::kind).toList());
        assertEquals(
                List.of(
                        "depth_to_space_mode_swap",
                        "drop_bias",
                        "requant_shift_off_by_one",
                        "accumulator_int16_wrap",
                        "input_channel_swap",
                        "zero_point_ignored",
                        "lut_coarse",
                        "softmax_no_max_subtract",
                        "matmul_transpose_b",
                        "rnn_gate_order"),
                Arrays.stream(FaultKind.values()).map(FaultKind::yamlName).toList());
        assertTrue(OpTraits.faultApplies(FaultKind.INPUT_CHANNEL_SWAP, "Sigmoid")
                && OpTraits.faultApplies(FaultKind.INPUT_CHANNEL_SWAP, "Conv"));
        assertTrue(OpTraits.faultApplies(FaultKind.LUT_COARSE, "HardSwish")
                && !OpTraits.faultApplies(FaultKind.LUT_COARSE, "Conv"));
        assertTrue(DeviceProfile.DEFAULT.faults().isEmpty());
    }

    @Test
    void faultOnAnotherOpIsRefusedInOneLine() {
        for (String kind :
                List.of("drop_bias", "requant_shift_off_by_one", "accumulator_int16_wrap", "zero_point_ignored")) {
            SimulatorException e = assertThrows(SimulatorException.class, () -> faulted(kind, "s"));
            assertTrue(
                    e.getMessage().contains("fault " + kind + " applies to [")
                            && e.getMessage().contains("is Sigmoid"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        SimulatorException e = assertThrows(SimulatorException.class, () -> faulted("lut_coarse", "t2"));
        assertTrue(e.getMessage().contains("but layer 't2' is Conv"), e.getMessage());
        e = assertThrows(
                SimulatorException.class,
                () -> Simulator.compile(qdq, "q", CompileOptions.of(profile("drop_bias", "op", "Sigmoid"))));
        assertTrue(e.getMessage().contains("not to op Sigmoid"), e.getMessage());
    }

    @Test
    void dropBiasShiftsEachChannelByItsBias() throws Exception {
        Map<String, LayerValue> f = runAndCompare(faulted("drop_bias", "t2"), "t2");
        int[] c = codes(cleanRun, "t2");
        int[] d = codes(f, "t2");
        QuantParams qy = q("t2");
        float[] bias = CONSTANTS.get("b2").floats();
        int hw = 64;
        int checked = 0;
        for (int ch = 0; ch < 8; ch++) {
            double expected = -bias[ch] / qy.scale(0);
            int min = Integer.MAX_VALUE;
            int max = Integer.MIN_VALUE;
            for (int i = ch * hw; i < (ch + 1) * hw; i++) {
                if (inside(c[i], qy) && inside(d[i], qy)) {
                    int diff = d[i] - c[i];
                    assertEquals(expected, diff, 1.01, "channel " + ch);
                    min = Math.min(min, diff);
                    max = Math.max(max, diff);
                    checked++;
                }
            }
            assertTrue(min > max || max - min <= 1, "channel " + ch + ": constant up to rounding");
        }
        assertTrue(checked > 200, "checked " + checked);
        // Gemm too.
        Map<String, LayerValue> fg = runAndCompare(faulted("drop_bias", "g"), "g");
        QuantParams qg = q("g");
        float[] bg = CONSTANTS.get("bg").floats();
        int[] cg = codes(cleanRun, "g");
        int[] dg = codes(fg, "g");
        for (int i = 0; i < cg.length; i++) {
            if (inside(cg[i], qg) && inside(dg[i], qg)) {
                assertEquals(-bg[i % 3] / qg.scale(0), dg[i] - cg[i], 1.01, "g[" + i + "]");
            }
        }
    }

    @Test
    void requantShiftOffByOneHalvesTheOutput() throws Exception {
        for (String layer : List.of("t2", "g", "a", "gp")) {
            Map<String, LayerValue> f = runAndCompare(faulted("requant_shift_off_by_one", layer), layer);
            assertHalved(layer, f);
        }
        // By op type: every Conv layer.
        NpuProgram byOp =
                Simulator.compile(qdq, "q", CompileOptions.of(profile("requant_shift_off_by_one", "op", "Conv")));
        Map<String, LayerValue> f = runAndCompare(byOp, "t1");
        assertHalved("t1", f);
    }

    private static void assertHalved(String layer, Map<String, LayerValue> f) {
        int[] c = codes(cleanRun, layer);
        int[] d = codes(f, layer);
        QuantParams qy = q(layer);
        long zp = qy.zeroPoint(0);
        int checked = 0;
        for (int i = 0; i < c.length; i++) {
            if (inside(c[i], qy)) {
                assertEquals((double) (c[i] - zp), (double) (2 * (d[i] - zp)), 1.01, layer + "[" + i + "]");
                checked++;
            }
        }
        assertTrue(checked > 0, layer);
    }

    @Test
    void accumulatorWrapsAt16Bits() throws Exception {
        // t3 = Conv 1x1 with equal weights per output channel: every weight code is 127, no bias,
        // so the accumulator is 127 * sum over input channels of (s - zp_s), computable here.
        Map<String, LayerValue> f = runAndCompare(faulted("accumulator_int16_wrap", "t3"), "t3");
        int[] s = codes(cleanRun, "s");
        long zs = q("s").zeroPoint(0);
        int[] c = codes(cleanRun, "t3");
        int[] d = codes(f, "t3");
        QuantParams qy = q("t3");
        long zy = qy.zeroPoint(0);
        int wrapped = 0;
        int intact = 0;
        for (int o = 0; o < 8; o++) {
            for (int p = 0; p < 64; p++) {
                long acc = 0;
                for (int ic = 0; ic < 8; ic++) {
                    acc += 127 * (s[ic * 64 + p] - zs);
                }
                int i = o * 64 + p;
                if (acc == (short) acc) {
                    assertEquals(c[i], d[i], "t3[" + i + "]: accumulator " + acc + " fits in 16 bits");
                    intact++;
                } else if (inside(c[i], qy) && inside(d[i], qy)) {
                    // Same multiplier: y - zp proportional to the (wrapped) accumulator.
                    double m = (c[i] - zy) / (double) acc;
                    assertEquals(
                            m * (short) acc,
                            (double) (d[i] - zy),
                            1.01 + Math.abs(m * (short) acc) * 0.01,
                            "t3[" + i + "]: accumulator " + acc + " wraps to " + (short) acc);
                    wrapped++;
                }
            }
        }
        assertTrue(wrapped > 20, "wrapped " + wrapped + ", intact " + intact);
    }

    @Test
    void inputChannelSwapReadsChannelsReversed() throws Exception {
        // A first conv: RGB read as BGR equals the clean program on the channel-reversed image.
        Map<String, LayerValue> f = run(faulted("input_channel_swap", "t1"), feed);
        Map<String, Tensor> reversed = new LinkedHashMap<>(feed);
        reversed.put("x", Channels.reverse(feed.get("x")));
        Map<String, LayerValue> onReversed = run(clean, reversed);
        assertArrayEquals(codes(onReversed, "t1"), codes(f, "t1"));
        assertFalse(Arrays.equals(codes(cleanRun, "t1"), codes(f, "t1")));

        // Any op in the middle of the program: the clean layer on its reversed input.
        for (String layer : List.of("t2", "s", "gp")) {
            Map<String, LayerValue> fl = runAndCompare(faulted("input_channel_swap", layer), layer);
            String in = clean.layer(layer).orElseThrow().inputs().get(0);
            LayerValue expected = clean.runLayer(
                    layer, Map.of(in, Channels.reverse(cleanRun.get(in).real())));
            assertArrayEquals(expected.codes().codes(), codes(fl, layer), layer);
        }
    }

    @Test
    void zeroPointIgnoredAddsZpTimesWeightSumPerChannel() throws Exception {
        Map<String, LayerValue> f = runAndCompare(faulted("zero_point_ignored", "t2"), "t2");
        QuantParams qs = q("s");
        QuantParams qy = q("t2");
        assertTrue(Math.abs(qs.zeroPoint(0)) > 50, "sigmoid output has a large zero point: " + qs);
        float[] w = CONSTANTS.get("w2").floats();
        int[] c = codes(cleanRun, "t2");
        int[] d = codes(f, "t2");
        int checked = 0;
        for (int ch = 0; ch < 8; ch++) {
            double sumW = 0;
            for (int i = 0; i < 72; i++) {
                sumW += w[ch * 72 + i];
            }
            // acc' = acc + zp * sum(w codes): in output codes zp * s_x * sum(w) / s_y.
            double expected = qs.zeroPoint(0) * qs.scale(0) * sumW / qy.scale(0);
            for (int i = ch * 64; i < (ch + 1) * 64; i++) {
                if (inside(c[i], qy) && inside(d[i], qy)) {
                    assertEquals(expected, d[i] - c[i], 1.01 + Math.abs(expected) * 0.02, "t2[" + i + "]");
                    checked++;
                }
            }
        }
        assertTrue(checked > 100, "checked " + checked);
        // Add and GlobalAveragePool accept the fault too.
        runAndCompare(faulted("zero_point_ignored", "a"), "a");
        runAndCompare(faulted("zero_point_ignored", "gp"), "gp");
        runAndCompare(faulted("zero_point_ignored", "g"), "g");
    }

    @Test
    void lutCoarseLeavesAtMost16Codes() throws Exception {
        Map<String, LayerValue> f = runAndCompare(faulted("lut_coarse", "s"), "s");
        TreeSet<Integer> distinct = new TreeSet<>();
        for (int v : codes(f, "s")) {
            distinct.add(v);
        }
        TreeSet<Integer> cleanDistinct = new TreeSet<>();
        for (int v : codes(cleanRun, "s")) {
            cleanDistinct.add(v);
        }
        assertTrue(distinct.size() <= 16, distinct.size() + " codes");
        assertTrue(cleanDistinct.size() > 16, cleanDistinct.size() + " codes in the clean run");
        // Codes of one group of 16 input codes map to one output code, close to the fine table.
        int[] t1 = codes(cleanRun, "t1");
        int[] c = codes(cleanRun, "s");
        int[] d = codes(f, "s");
        Map<Integer, Integer> byGroup = new LinkedHashMap<>();
        for (int i = 0; i < t1.length; i++) {
            Integer prev = byGroup.putIfAbsent(t1[i] >> 4, d[i]);
            assertTrue(prev == null || prev == d[i], "input code group " + (t1[i] >> 4));
        }
        List<Integer> gaps = new ArrayList<>();
        for (int i = 0; i < c.length; i++) {
            gaps.add(Math.abs(c[i] - d[i]));
        }
        assertTrue(gaps.stream().mapToInt(Integer::intValue).max().orElse(0) < 64, "coarse, not wrong");
    }

    /** Channel reversal of a float tensor (axis 1), written independently of the implementation. */
    static final class Channels {
        static Tensor reverse(Tensor t) {
            int[] s = t.shape();
            int inner = 1;
            for (int i = 2; i < s.length; i++) {
                inner *= s[i];
            }
            float[] src = t.floats();
            float[] dst = new float[src.length];
            for (int b = 0; b < s[0]; b++) {
                for (int c = 0; c < s[1]; c++) {
                    for (int i = 0; i < inner; i++) {
                        dst[(b * s[1] + c) * inner + i] = src[(b * s[1] + s[1] - 1 - c) * inner + i];
                    }
                }
            }
            return Tensor.ofFloats(s, dst);
        }
    }
}
