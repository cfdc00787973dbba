package dev.layerprobe.host.demo;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The demo's network, built in code: a small MobileNetV2-style backbone (inverted residual blocks
 * with ReLU6 and depthwise convolutions) and a MobilePose-like head that up-samples twice with
 * PixelShuffle (ONNX DepthToSpace, CRD mode, as PyTorch exports it). Weights are He-initialised
 * from a fixed seed, so the model is the same on every machine. Input {@code input} 1x3x128x128
 * (RGB, ImageNet mean/std), output {@code heatmaps} 1x8x32x32.
 */
public final class DemoModel {
    public static final int SIZE = 128;
    public static final String INPUT = "input";
    public static final String OUTPUT = "heatmaps";

    private final SplittableRandom rng;
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Tensor> constants = new LinkedHashMap<>();
    private int counter;

    private DemoModel(long seed) {
        this.rng = new SplittableRandom(seed);
    }

    /** Builds the model with the given weight seed. */
    public static ModelProto build(long seed) {
        DemoModel m = new DemoModel(seed);
        String x = m.conv(INPUT, 3, 16, 3, 2, 1, true); // 64x64
        x = m.invertedResidual(x, 16, 16, 1, 1);
        x = m.invertedResidual(x, 16, 24, 2, 4); // 32x32
        x = m.invertedResidual(x, 24, 24, 1, 4);
        x = m.invertedResidual(x, 24, 32, 2, 4); // 16x16
        x = m.invertedResidual(x, 32, 32, 1, 4);
        x = m.conv(x, 32, 64 * 4, 1, 1, 1, false);
        x = m.pixelShuffle(x, 2); // 64 x 32x32
        x = m.relu(x);
        x = m.conv(x, 64, 16 * 4, 3, 1, 1, false);
        x = m.pixelShuffle(x, 2); // 16 x 64x64
        x = m.relu(x);
        x = m.conv(x, 16, 8, 3, 2, 1, false); // 8 x 32x32
        m.rename(x, OUTPUT);
        Graph g = new Graph(
                "layerprobe_demo_pose",
                m.nodes,
                m.constants,
                List.of(new ValueInfo(INPUT, DType.FLOAT32, new int[] {1, 3, SIZE, SIZE})),
                List.of(OUTPUT),
                Map.of("", 13));
        return OnnxGraphs.toModel(g, "layerprobe-demo", Map.of());
    }

    private String invertedResidual(String x, int in, int out, int stride, int expand) {
        String h = x;
        int hidden = in * expand;
        if (expand != 1) {
            h = conv(h, in, hidden, 1, 1, 1, true);
        }
        h = conv(h, hidden, hidden, 3, stride, hidden, true);
        h = conv(h, hidden, out, 1, 1, 1, false);
        if (stride == 1 && in == out) {
            String y = name("add");
            nodes.add(node("Add", List.of(x, h), y, Map.of()));
            return y;
        }
        return h;
    }

    private String conv(String x, int in, int out, int k, int stride, int group, boolean relu6) {
        int fanIn = in / group * k * k;
        double std = Math.sqrt(2.0 / fanIn);
        float[] w = new float[out * (in / group) * k * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (gaussian() * std);
        }
        float[] b = new float[out];
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) (gaussian() * 0.05);
        }
        String wName = name("w");
        String bName = name("b");
        constants.put(wName, Tensor.ofFloats(new int[] {out, in / group, k, k}, w));
        constants.put(bName, Tensor.ofFloats(new int[] {out}, b));
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        attrs.put("kernel_shape", Attribute.ofInts(k, k));
        attrs.put("strides", Attribute.ofInts(stride, stride));
        int p = k / 2;
        attrs.put("pads", Attribute.ofInts(p, p, p, p));
        attrs.put("group", Attribute.ofInt(group));
        String y = name("conv");
        nodes.add(node("Conv", List.of(x, wName, bName), y, attrs));
        if (!relu6) {
            return y;
        }
        String lo = name("clip_min");
        String hi = name("clip_max");
        constants.put(lo, Tensor.scalar(0f));
        constants.put(hi, Tensor.scalar(6f));
        String z = name("relu6");
        nodes.add(node("Clip", List.of(y, lo, hi), z, Map.of()));
        return z;
    }

    private String pixelShuffle(String x, int r) {
        String y = name("pixel_shuffle");
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        attrs.put("blocksize", Attribute.ofInt(r));
        attrs.put("mode", Attribute.ofString("CRD"));
        nodes.add(node("DepthToSpace", List.of(x), y, attrs));
        return y;
    }

    private String relu(String x) {
        String y = name("relu");
        nodes.add(node("Relu", List.of(x), y, Map.of()));
        return y;
    }

    private void rename(String from, String to) {
        for (Node n : nodes) {
            n.outputs().replaceAll(o -> o.equals(from) ? to : o);
        }
    }

    private Node node(String op, List<String> in, String out, Map<String, Attribute> attrs) {
        return new Node(op + "_" + counter++, op, "", in, List.of(out), attrs);
    }

    private String name(String base) {
        return base + "_" + counter++;
    }

    private double gaussian() {
        // Box-Muller on the seeded generator: reproducible across JVMs, unlike Random.nextGaussian's state.
        double u = 1.0 - rng.nextDouble();
        double v = rng.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
