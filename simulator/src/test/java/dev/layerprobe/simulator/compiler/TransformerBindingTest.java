package dev.layerprobe.simulator.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
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
