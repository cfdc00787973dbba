package dev.layerprobe.simulator.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * A one-head attention block (spelt-out LayerNormalization, Q/K/V projections by constant weights,
 * Q·Kᵀ, Softmax, attention·V, native LayerNormalization), quantized int8 by the QDQ writer: with
 * the default {@code requant: fixed} every MatMul, the Softmax and both LayerNormalizations are
 * integer layers on the NPU and the output stays close to the float program's; with
 * {@code requant: float} they stay on the CPU, as ONNX Runtime's CPU provider runs them.
 */
class TransformerBindingTest {
    private static final int T = 16;
    private static final int D = 32;

    private static Node node(String op, List<String> in, String out, Map<String, Attribute> attrs) {
        return new Node(out + "_node", op, "", in, List.of(out), new HashMap<>(attrs));
    }

    private static Node node(String op, List<String> in, String out) {
        return node(op, in, out, Map.of());
    }

    private static Tensor random(Random r, int[] shape, double sigma, double mean) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (mean + sigma * r.nextGaussian());
        }
        return Tensor.ofFloats(shape, v);
    }

    private static Graph attention() {
        Random r = new Random(7);
        Map<String, Tensor> k = new LinkedHashMap<>();
        k.put("two", Tensor.scalar(2f));
        k.put("eps", Tensor.scalar(1e-5f));
        k.put("g1", random(r, new int[] {D}, 0.2, 1));
        k.put("b1", random(r, new int[] {D}, 0.1, 0));
        k.put("g2", random(r, new int[] {D}, 0.2, 1));
        k.put("b2", random(r, new int[] {D}, 0.1, 0));
        for (String w : List.of("wq", "wk", "wv")) {
            k.put(w, random(r, new int[] {D, D}, 1 / Math.sqrt(D), 0));
        }
        k.put("bq", random(r, new int[] {D}, 0.1, 0));
        k.put("perm", Tensor.ofLongs(DType.INT64, new int[] {3}, new long[] {0, 2, 1}));
        Map<String, Attribute> lastAxis = Map.of("axes", Attribute.ofInts(new long[] {-1}));
        List<Node> nodes = new ArrayList<>(List.of(
                node("ReduceMean", List.of("x"), "mean", lastAxis),
                node("Sub", List.of("x", "mean"), "centred"),
                node("Pow", List.of("centred", "two"), "sq"),
                node("ReduceMean", List.of("sq"), "var", lastAxis),
                node("Add", List.of("var", "eps"), "vareps"),
                node("Sqrt", List.of("vareps"), "sd"),
                node("Div", List.of("centred", "sd"), "normed"),
                node("Mul", List.of("normed", "g1"), "scaled"),
                node("Add", List.of("scaled", "b1"), "ln1"),
                node("MatMul", List.of("ln1", "wq"), "q"),
                node("MatMul", List.of("ln1", "wk"), "k"),
                node("MatMul", List.of("ln1", "wv"), "v"),
                node("Transpose", List.of("k"), "kt", Map.of("perm", Attribute.ofInts(new long[] {0, 2, 1}))),
                node("MatMul", List.of("q", "kt"), "scores"),
                node("Softmax", List.of("scores"), "attn", Map.of("axis", Attribute.ofInt(-1))),
                node("MatMul", List.of("attn", "v"), "ctx"),
                node("LayerNormalization", List.of("ctx", "g2", "b2"), "y", Map.of("axis", Attribute.ofInt(-1)))));
        k.remove("bq");
        k.remove("perm");
        return new Graph(
                "attention",
                nodes,
                k,
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, T, D})),
                List.of("y"),
                Map.of("", 13));
    }

    private static List<Map<String, Tensor>> feeds() {
        Random r = new Random(11);
        List<Map<String, Tensor>> f = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            f.add(Map.of("x", random(r, new int[] {1, T, D}, 1.5, 0.3)));
        }
        return f;
    }

    private static float[] run(NpuProgram p, Map<String, Tensor> feed) throws Exception {
        Map<String, LayerValue> out = new HashMap<>();
        p.run(feed, (layer, v) -> out.put(layer.name(), v));
        return out.get("y").real().toFloat().floats();
    }

    @Test
    void attentionLayersAreIntegerKernelsOnTheNpuUnderFixedAndOrtCpuLayersUnderFloat() throws Exception {
        ModelProto model = OnnxGraphs.toModel(attention(), "attention", Map.of());
        NpuProgram fp = Simulator.compile(model, "attention", CompileOptions.DEFAULT);
        assertEquals("LayerNormalization", fp.layers().get(0).op(), "the spelt-out form is one layer: " + fp.layers());
        assertEquals(9, fp.layers().get(0).fusedNodes().size());
        Calibration cal = Calibration.collect(fp, feeds(), n -> {});
        ModelProto qdq = QdqWriter.write(fp, cal, QuantConfig.INT8);
        NpuProgram fixed = Simulator.compile(qdq, "fixed", CompileOptions.DEFAULT);
        Map<String, Long> npu = new LinkedHashMap<>();
        for (Layer l : fixed.layers()) {
            if (List.of("MatMul", "Softmax", "LayerNormalization").contains(l.op())) {
                assertEquals(Placement.NPU, l.placement(), l.name() + " (" + l.op() + ")");
                npu.merge(l.op(), 1L, Long::sum);
            }
        }
        assertEquals(Map.of("LayerNormalization", 2L, "MatMul", 5L, "Softmax", 1L), npu);
        double worst = 1;
        for (Map<String, Tensor> feed : feeds()) {
            worst = Math.min(worst, cos(run(fp, feed), run(fixed, feed)));
        }
        System.out.printf("attention block int8 (fixed) vs float: worst cos %.6f%n", worst);
        assertTrue(worst > 0.99, "cos " + worst);

        NpuProgram ort = Simulator.compile(
                qdq, "float", CompileOptions.of(DeviceProfile.parse("name: ort\nrequant: float\n", "t")));
        for (Layer l : ort.layers()) {
            if (List.of("MatMul", "Softmax", "LayerNormalization").contains(l.op())) {
                assertEquals(Placement.CPU, l.placement(), l.name() + " under requant: float");
            }
        }
    }

    @Test
    void aMatMulAndItsBiasAddWithoutQuantizationBetweenAreOneIntegerLayer() throws Exception {
        Random r = new Random(5);
        Map<String, Tensor> k = new LinkedHashMap<>();
        k.put("s", Tensor.scalar(0.05f));
        k.put("zp", Tensor.ofLongs(DType.INT8, new int[0], new long[] {0}));
        k.put("sy", Tensor.scalar(0.1f));
        k.put("w", random(r, new int[] {D, 8}, 0.3, 0));
        k.put("b", random(r, new int[] {8}, 1, 0));
        List<Node> nodes = List.of(
                node("QuantizeLinear", List.of("x", "s", "zp"), "xq"),
                node("DequantizeLinear", List.of("xq", "s", "zp"), "xd"),
                node("MatMul", List.of("xd", "w"), "p"),
                node("Add", List.of("p", "b"), "yb"),
                node("QuantizeLinear", List.of("yb", "sy", "zp"), "yq"),
                node("DequantizeLinear", List.of("yq", "sy", "zp"), "y"));
        Graph g = new Graph(
                "linear",
                nodes,
                k,
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, T, D})),
                List.of("y"),
                Map.of("", 13));
        NpuProgram p = Simulator.compile(OnnxGraphs.toModel(g, "linear", Map.of()), "linear", CompileOptions.DEFAULT);
        Layer mm = p.layers().stream()
                .filter(l -> l.op().equals("MatMul"))
                .findFirst()
                .orElseThrow();
        assertEquals(List.of("Add"), mm.fusedOps(), "bias fused: " + p.layers());
        assertEquals(Placement.NPU, mm.placement());
        Map<String, Tensor> feed = Map.of("x", random(r, new int[] {1, T, D}, 1, 0));
        float[] x = QuantizedValuesFeed.quantizeDequantize(feed.get("x").floats(), 0.05f);
        float[] want = new float[T * 8];
        for (int t = 0; t < T; t++) {
            for (int j = 0; j < 8; j++) {
                double acc = k.get("b").floats()[j];
                for (int i = 0; i < D; i++) {
                    acc += (double) x[t * D + i] * k.get("w").floats()[i * 8 + j];
                }
                want[t * 8 + j] = (float) acc;
            }
        }
        Map<String, LayerValue> out = new HashMap<>();
        p.run(feed, (layer, v) -> out.put(layer.name(), v));
        double c = cos(want, out.get(mm.name()).real().toFloat().floats());
        System.out.printf("MatMul + bias, one int8 layer vs float: cos %.6f%n", c);
        assertTrue(c > 0.999, "cos " + c);
    }

    /** Quantize-dequantize at a per-tensor int8 scale with zero point 0. */
    private static final class QuantizedValuesFeed {
        static float[] quantizeDequantize(float[] v, float s) {
            float[] out = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                out[i] = (float) (Math.max(-128, Math.min(127, Math.rint(v[i] / s))) * s);
            }
            return out;
        }
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
}
