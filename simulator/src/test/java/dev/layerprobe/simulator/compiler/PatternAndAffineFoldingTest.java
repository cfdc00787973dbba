package dev.layerprobe.simulator.compiler;

import static dev.layerprobe.simulator.compiler.ShapeFoldingTest.compile;
import static dev.layerprobe.simulator.compiler.ShapeFoldingTest.node;
import static dev.layerprobe.simulator.compiler.ShapeFoldingTest.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.kernels.FloatKernels;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.quant.QuantConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Activation patterns become one layer; per-channel affine constants fold into the Conv before them. */
class PatternAndAffineFoldingTest {
    private static final int[] X = {1, 4, 6, 6};

    private static Graph graph(List<Node> nodes, Map<String, Tensor> constants, String output) {
        return new Graph(
                "g", nodes, constants, List.of(new ValueInfo("x", DType.FLOAT32, X)), List.of(output), Map.of("", 13));
    }

    private static Tensor scalar(float v) {
        return Tensor.scalar(v);
    }

    /** x -> Conv -> Add(3) -> Clip(0, 6) -> Mul(conv, clip) -> Div(6): HardSwish as Paddle exports it. */
    private static Graph hardSwish() {
        Map<String, Tensor> c = new LinkedHashMap<>();
        c.put("w", random(new int[] {4, 4, 1, 1}, 3));
        c.put("three", scalar(3));
        c.put("zero", scalar(0));
        c.put("six", scalar(6));
        return graph(
                List.of(
                        node("conv", "Conv", List.of("x", "w"), List.of("c"), Map.of()),
                        node("add", "Add", List.of("c", "three"), List.of("a"), Map.of()),
                        node("clip", "Clip", List.of("a", "zero", "six"), List.of("k"), Map.of()),
                        node("mul", "Mul", List.of("c", "k"), List.of("m"), Map.of()),
                        node("div", "Div", List.of("m", "six"), List.of("y"), Map.of())),
                c,
                "y");
    }

    @Test
    void hardSwishSpeltOutIsOneLayer() throws Exception {
        NpuProgram p = compile(hardSwish(), CompileOptions.DEFAULT);
        assertEquals(2, p.layers().size(), "layers " + p.layers());
        Layer hs = p.layers().get(1);
        assertEquals("HardSwish", hs.op());
        assertEquals("y", hs.name());
        assertEquals(List.of("add", "clip", "mul", "div"), hs.fusedNodes());
        assertEquals(List.of("c"), hs.inputs());
        assertEquals(Placement.NPU, hs.placement());
        Tensor x = random(X, 5);
        float[] got = p.run(Map.of("x", x), LayerObserver.NONE).get("y").real().floats();
        Tensor c = FloatKernels.create(p.graph().nodes().get(0), 13)
                .run(new Tensor[] {x, p.graph().constant("w")})[0];
        for (int i = 0; i < got.length; i++) {
            float v = c.floats()[i];
            float want = v * Math.min(Math.max(v + 3, 0), 6) / 6;
            assertEquals(want, got[i], 1e-5f);
        }
    }

    @Test
    void quantizedHardSwishRunsAsOneLookupTable() throws Exception {
        NpuProgram fp = compile(hardSwish(), CompileOptions.DEFAULT);
        Calibration cal =
                Calibration.collect(fp, List.of(Map.of("x", random(X, 1)), Map.of("x", random(X, 2))), n -> {});
        ModelProto qdq = QdqWriter.write(fp, cal, QuantConfig.INT8);
        NpuProgram qp = Simulator.compile(qdq, "hs.qdq", CompileOptions.DEFAULT);
        Layer hs = qp.layers().get(1);
        assertEquals("HardSwish", hs.op());
        assertEquals(Placement.NPU, hs.placement());
        Tensor x = random(X, 9);
        float[] f = fp.run(Map.of("x", x), LayerObserver.NONE).get("y").real().floats();
        float[] q = qp.run(Map.of("x", x), LayerObserver.NONE).get("y").real().floats();
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < f.length; i++) {
            ab += f[i] * q[i];
            aa += f[i] * f[i];
            bb += q[i] * q[i];
        }
        assertTrue(ab / Math.sqrt(aa * bb) > 0.999, "cos " + ab / Math.sqrt(aa * bb));
    }

    @Test
    void geluSpeltOutIsOneLayer() throws Exception {
        Map<String, Tensor> c = new LinkedHashMap<>();
        c.put("sqrt2", scalar((float) Math.sqrt(2)));
        c.put("one", scalar(1));
        c.put("half", scalar(0.5f));
        Graph g = graph(
                List.of(
                        node("relu", "Relu", List.of("x"), List.of("r"), Map.of()),
                        node("div", "Div", List.of("r", "sqrt2"), List.of("d"), Map.of()),
                        node("erf", "Erf", List.of("d"), List.of("e"), Map.of()),
                        node("add", "Add", List.of("e", "one"), List.of("a"), Map.of()),
                        node("mul", "Mul", List.of("r", "a"), List.of("m"), Map.of()),
                        node("mul2", "Mul", List.of("m", "half"), List.of("y"), Map.of())),
                c,
                "y");
        NpuProgram p = compile(g, CompileOptions.DEFAULT);
        assertEquals(2, p.layers().size(), "layers " + p.layers());
        assertEquals("Gelu", p.layers().get(1).op());
    }

    @Test
    void unrecognisedArithmeticKeepsItsLayers() throws Exception {
        Map<String, Tensor> c = new LinkedHashMap<>();
        c.put("two", scalar(2));
        c.put("one", scalar(1));
        Graph g = graph(
                List.of(
                        node("relu", "Relu", List.of("x"), List.of("r"), Map.of()),
                        node("mul", "Mul", List.of("r", "two"), List.of("m"), Map.of()),
                        node("add", "Add", List.of("m", "one"), List.of("y"), Map.of())),
                c,
                "y");
        NpuProgram p = compile(g, CompileOptions.DEFAULT);
        assertEquals(3, p.layers().size(), "layers " + p.layers());
    }

    @Test
    void perChannelMulAndAddFoldIntoConv() throws Exception {
        Map<String, Tensor> c = new LinkedHashMap<>();
        c.put("w", random(new int[] {4, 4, 3, 3}, 11));
        c.put("b", random(new int[] {4}, 12));
        c.put("scale", Tensor.ofFloats(new int[] {1, 4, 1, 1}, new float[] {0.5f, -2f, 3f, 1.5f}));
        c.put("shift", Tensor.ofFloats(new int[] {4, 1, 1}, new float[] {1f, 2f, -3f, 0.25f}));
        Graph g = graph(
                List.of(
                        node(
                                "conv",
                                "Conv",
                                List.of("x", "w", "b"),
                                List.of("c"),
                                Map.of("pads", Attribute.ofInts(1, 1, 1, 1))),
                        node("mul", "Mul", List.of("c", "scale"), List.of("m"), Map.of()),
                        node("add", "Add", List.of("shift", "m"), List.of("y"), Map.of())),
                c,
                "y");
        Tensor x = random(X, 13);
        Tensor conv = FloatKernels.create(g.nodes().get(0), 13).run(new Tensor[] {x, c.get("w"), c.get("b")})[0];
        Tensor m = FloatKernels.create(g.nodes().get(1), 13).run(new Tensor[] {conv, c.get("scale")})[0];
        Tensor want = FloatKernels.create(g.nodes().get(2), 13).run(new Tensor[] {c.get("shift"), m})[0];
        NpuProgram p = compile(g, CompileOptions.DEFAULT);
        assertEquals(1, p.layers().size(), "layers " + p.layers());
        assertEquals(List.of("conv", "mul", "add"), p.layers().get(0).fusedNodes());
        assertEquals("y", p.layers().get(0).name());
        float[] got = p.run(Map.of("x", x), LayerObserver.NONE).get("y").real().floats();
        for (int i = 0; i < got.length; i++) {
            assertEquals(want.floats()[i], got[i], 1e-4f * Math.max(1, Math.abs(want.floats()[i])));
        }
    }

    @Test
    void batchNormFoldsIntoGemm() throws Exception {
        Map<String, Tensor> c = new LinkedHashMap<>();
        c.put("B", random(new int[] {5, 144}, 21));
        c.put("C", random(new int[] {5}, 22));
        c.put("gamma", Tensor.ofFloats(new int[] {5}, new float[] {1f, 2f, 0.5f, 1.5f, 0.8f}));
        c.put("beta", random(new int[] {5}, 23));
        c.put("mean", random(new int[] {5}, 24));
        c.put("var", Tensor.ofFloats(new int[] {5}, new float[] {1f, 0.5f, 2f, 0.3f, 1.1f}));
        Graph g = graph(
                List.of(
                        node("flat", "Flatten", List.of("x"), List.of("f"), Map.of()),
                        node(
                                "gemm",
                                "Gemm",
                                List.of("f", "B", "C"),
                                List.of("gm"),
                                Map.of("transB", Attribute.ofInt(1), "beta", Attribute.ofFloat(0.5f))),
                        node(
                                "bn",
                                "BatchNormalization",
                                List.of("gm", "gamma", "beta", "mean", "var"),
                                List.of("y"),
                                Map.of())),
                c,
                "y");
        Tensor x = random(X, 25);
        Tensor f = FloatKernels.create(g.nodes().get(0), 13).run(new Tensor[] {x})[0];
        Tensor gm = FloatKernels.create(g.nodes().get(1), 13).run(new Tensor[] {f, c.get("B"), c.get("C")})[0];
        Tensor want = FloatKernels.create(g.nodes().get(2), 13)
                .run(new Tensor[] {gm, c.get("gamma"), c.get("beta"), c.get("mean"), c.get("var")})[0];
        NpuProgram p = compile(g, CompileOptions.DEFAULT);
        assertEquals(2, p.layers().size(), "layers " + p.layers());
        assertEquals(List.of("gemm", "bn"), p.layers().get(1).fusedNodes());
        float[] got = p.run(Map.of("x", x), LayerObserver.NONE).get("y").real().floats();
        for (int i = 0; i < got.length; i++) {
            assertEquals(want.floats()[i], got[i], 1e-4f * Math.max(1, Math.abs(want.floats()[i])));
        }
    }
}
