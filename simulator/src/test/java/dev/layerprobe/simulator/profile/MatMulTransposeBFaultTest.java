package dev.layerprobe.simulator.profile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * matmul_transpose_b through the compiler's binding on a small int8 transformer fragment: the
 * faulted layer equals the healthy program with B's buffer reinterpreted (element {@code (k, n)}
 * from offset {@code n * K + k}), for the constant weight with its fused bias and for two
 * activations, and {@link NpuProgram#runLayerWithFault} reproduces the faulted device.
 * <pre>
 * x [1, 5, 6] -> MatMul(W [6, 4]) -> Add(b) -> a -> Transpose(0, 2, 1) -> t [1, 4, 5]
 *                                              a, t -> MatMul -> s [1, 5, 5]
 * </pre>
 */
class MatMulTransposeBFaultTest {
    private static final int K = 6;
    private static final int N = 4;
    private static ModelProto qdq;
    private static ModelProto qdqReinterpreted;
    private static NpuProgram clean;
    private static Map<String, Tensor> feed;
    private static Map<String, LayerValue> cleanRun;

    /**
     * A weight whose columns, and the columns of its reinterpretation, each hold a 1 and otherwise
     * multiples of 1/127: both quantize per column to scale 1/127 with exact codes, so the two
     * programs differ in the weight's order alone.
     */
    private static float[] weight() {
        SplittableRandom r = new SplittableRandom(7);
        float[] w = new float[K * N];
        for (int i = 0; i < w.length; i++) {
            w[i] = (r.nextInt(253) - 126) / 127f;
        }
        // Offsets 0, 7, 14, 21 fall in columns 0, 3, 2, 1 of [6, 4] and in rows 0..3 of [4, 6].
        for (int i : new int[] {0, 7, 14, 21}) {
            w[i] = 1f;
        }
        return w;
    }

    /** B's buffer reinterpreted per matrix: element (k, n) taken from offset n * K + k. */
    private static float[] reinterpreted(float[] b, int matrices, int k, int n) {
        float[] out = new float[b.length];
        for (int mat = 0; mat < matrices; mat++) {
            for (int t = 0; t < k; t++) {
                for (int j = 0; j < n; j++) {
                    out[mat * k * n + t * n + j] = b[mat * k * n + j * k + t];
                }
            }
        }
        return out;
    }

    /**
     * The fragment as a QDQ file that quantizes x, a, t and s but not the product before the bias
     * Add, so the MatMul and its Add are one integer layer; W stays float (quantized per column by
     * the compiler).
     */
    private static ModelProto qdqModel(float[] w) {
        Map<String, Tensor> k = new LinkedHashMap<>();
        k.put("W", Tensor.ofFloats(new int[] {K, N}, w));
        k.put("b", Tensor.ofFloats(new int[] {N}, new float[] {0.5f, -0.25f, 0.75f, -1f}));
        k.put("sx", Tensor.scalar(1 / 127f));
        k.put("sa", Tensor.scalar(8 / 127f));
        k.put("sp", Tensor.scalar(0.2f));
        k.put("zp", Tensor.ofLongs(DType.INT8, new int[0], new long[] {0}));
        List<Node> nodes = List.of(
                node("QuantizeLinear", List.of("x", "sx", "zp"), "xq"),
                node("DequantizeLinear", List.of("xq", "sx", "zp"), "xd"),
                node("MatMul", List.of("xd", "W"), "m"),
                node("Add", List.of("m", "b"), "a"),
                node("QuantizeLinear", List.of("a", "sa", "zp"), "aq"),
                node("DequantizeLinear", List.of("aq", "sa", "zp"), "ad"),
                new Node("tr", "Transpose", "", List.of("ad"), List.of("t"), Map.of("perm", Attribute.ofInts(0, 2, 1))),
                node("QuantizeLinear", List.of("t", "sa", "zp"), "tq"),
                node("DequantizeLinear", List.of("tq", "sa", "zp"), "td"),
                node("MatMul", List.of("ad", "td"), "scores"),
                node("QuantizeLinear", List.of("scores", "sp", "zp"), "sq"),
                node("DequantizeLinear", List.of("sq", "sp", "zp"), "s"));
        Graph g = new Graph(
                "mm",
                nodes,
                k,
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, 5, K})),
                List.of("s"),
                Map.of("", 13));
        return OnnxGraphs.toModel(g, "mm", Map.of());
    }

    private static Node node(String op, List<String> in, String out) {
        return new Node(out + "_node", op, "", in, List.of(out), Map.of());
    }

    private static Map<String, Tensor> input(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[5 * K];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return Map.of("x", Tensor.ofFloats(new int[] {1, 5, K}, v));
    }

    @BeforeAll
    static void build() throws Exception {
        float[] w = weight();
        qdq = qdqModel(w);
        qdqReinterpreted = qdqModel(reinterpreted(w, 1, K, N));
        clean = Simulator.compile(qdq, "mm.qdq", CompileOptions.DEFAULT);
        feed = input(3);
        cleanRun = run(clean);
    }

    private static Map<String, LayerValue> run(NpuProgram p) throws SimulatorException {
        Map<String, LayerValue> out = new LinkedHashMap<>();
        p.run(feed, (layer, v) -> out.put(layer.name(), v));
        return out;
    }

    private static NpuProgram faulted(String layer) throws SimulatorException {
        DeviceProfile p = DeviceProfile.parse(
                "name: x\nfaults:\n  - kind: matmul_transpose_b\n    layer: " + layer + "\n", "test");
        return Simulator.compile(qdq, "mm.qdq", CompileOptions.of(p));
    }

    private static int[] codes(Map<String, LayerValue> run, String layer) {
        return run.get(layer).codes().codes();
    }

    @Test
    void theFragmentIsBoundAsIntegerMatMulsWithTheBiasFused() {
        Layer a = clean.layer("a").orElseThrow();
        assertEquals("MatMul", a.op());
        assertEquals(List.of("Add"), a.fusedOps(), "the bias Add is fused into the MatMul");
        assertEquals(Placement.NPU, a.placement());
        assertEquals(Placement.NPU, clean.layer("s").orElseThrow().placement());
    }

    @Test
    void constantWeightIsReadTransposedWithItsBias() throws Exception {
        Map<String, LayerValue> f = run(faulted("a"));
        Map<String, LayerValue> reference = run(Simulator.compile(qdqReinterpreted, "r", CompileOptions.DEFAULT));
        assertArrayEquals(codes(reference, "a"), codes(f, "a"), "the healthy MatMul of the reinterpreted weight");
        assertFalse(java.util.Arrays.equals(codes(cleanRun, "a"), codes(f, "a")), "the fault changes the layer");
        LayerValue again = clean.runLayerWithFault("a", FaultKind.MATMUL_TRANSPOSE_B, Map.of("x", feed.get("x")));
        assertArrayEquals(codes(f, "a"), again.codes().codes(), "runLayerWithFault is the faulted device");
    }

    @Test
    void activationOperandIsReadTransposed() throws Exception {
        Map<String, LayerValue> f = run(faulted("s"));
        assertArrayEquals(codes(cleanRun, "t"), codes(f, "t"), "the layers before the fault are untouched");
        Tensor a = cleanRun.get("a").real();
        Tensor t = cleanRun.get("t").real();
        // t is [1, 4, 5]: K = 4, N = 5.
        Tensor tRead = Tensor.ofFloats(t.shape(), reinterpreted(t.floats(), 1, 4, 5));
        LayerValue reference = clean.runLayer("s", Map.of("a", a, "t", tRead));
        assertArrayEquals(reference.codes().codes(), codes(f, "s"), "the healthy MatMul of the reinterpreted B");
        assertFalse(java.util.Arrays.equals(codes(cleanRun, "s"), codes(f, "s")), "the fault changes the layer");
        LayerValue again = clean.runLayerWithFault("s", FaultKind.MATMUL_TRANSPOSE_B, Map.of("a", a, "t", t));
        assertArrayEquals(codes(f, "s"), again.codes().codes(), "runLayerWithFault is the faulted device");
    }

    @Test
    void aLayerThatIsNoMatMulIsRefusedInOneLine() {
        SimulatorException e = assertThrows(SimulatorException.class, () -> faulted("t"));
        assertTrue(
                e.getMessage().contains("fault matmul_transpose_b applies to [MatMul], but layer 't' is Transpose"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        e = assertThrows(
                SimulatorException.class,
                () -> clean.runLayerWithFault("t", FaultKind.MATMUL_TRANSPOSE_B, Map.of("a", feed.get("x"))));
        assertTrue(e.getMessage().contains("cannot be placed on layer 't' (Transpose)"), e.getMessage());
    }
}
