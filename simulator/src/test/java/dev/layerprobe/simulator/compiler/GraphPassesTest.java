package dev.layerprobe.simulator.compiler;

import static dev.layerprobe.simulator.compiler.ShapeFoldingTest.compile;
import static dev.layerprobe.simulator.compiler.ShapeFoldingTest.node;
import static dev.layerprobe.simulator.compiler.ShapeFoldingTest.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.kernels.FloatKernels;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The compiler's graph passes: BatchNorm folding, activation fusion, Identity/Dropout/Constant removal. */
class GraphPassesTest {
    private static final int[] X_SHAPE = {1, 3, 8, 8};

    private static Tensor uniform(int n, double lo, double hi, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (lo + r.nextDouble() * (hi - lo));
        }
        return Tensor.ofFloats(new int[] {n}, v);
    }

    private static Graph graph(String name, List<Node> nodes, Map<String, Tensor> constants, List<String> outputs) {
        return new Graph(
                name, nodes, constants, List.of(new ValueInfo("x", DType.FLOAT32, X_SHAPE)), outputs, Map.of("", 13));
    }

    @Test
    void convBatchNormReluIsOneLayerWithTheUnfusedValues() throws Exception {
        Node conv = node(
                "conv", "Conv", List.of("x", "w", "b"), List.of("c"), Map.of("pads", Attribute.ofInts(1, 1, 1, 1)));
        Node bn = node(
                "bn",
                "BatchNormalization",
                List.of("c", "gamma", "beta", "mean", "var"),
                List.of("n"),
                Map.of("epsilon", Attribute.ofFloat(1e-3f)));
        Node relu = node("relu", "Relu", List.of("n"), List.of("y"), Map.of());
        Map<String, Tensor> constants = Map.of(
                "w", random(new int[] {4, 3, 3, 3}, 1),
                "b", uniform(4, -0.5, 0.5, 2),
                "gamma", uniform(4, 0.5, 2.0, 3),
                "beta", uniform(4, -1, 1, 4),
                "mean", uniform(4, -2, 2, 5),
                "var", uniform(4, 0.2, 3.0, 6));
        NpuProgram p = compile(graph("cbr", List.of(conv, bn, relu), constants, List.of("y")), CompileOptions.DEFAULT);

        assertEquals(1, p.layers().size(), "layers " + p.layers());
        Layer l = p.layers().get(0);
        assertEquals("y", l.name());
        assertEquals("Conv", l.op());
        assertEquals(List.of("Relu"), l.fusedOps());
        assertEquals(List.of("conv", "bn", "relu"), l.fusedNodes());
        assertEquals(List.of("x"), l.inputs());

        Tensor x = random(X_SHAPE, 7);
        Tensor got = p.run(Map.of("x", x), LayerObserver.NONE).get("y").real();
        Tensor c = FloatKernels.create(conv, 13).run(new Tensor[] {x, constants.get("w"), constants.get("b")})[0];
        Tensor n = FloatKernels.create(bn, 13)
                .run(new Tensor[] {
                    c, constants.get("gamma"), constants.get("beta"), constants.get("mean"), constants.get("var")
                })[0];
        Tensor want = FloatKernels.create(relu, 13).run(new Tensor[] {n})[0];
        assertArrayEquals(want.shape(), got.shape());
        int positive = 0;
        for (int i = 0; i < want.size(); i++) {
            float e = want.floats()[i];
            float a = got.floats()[i];
            // Relative, with 1 as the floor of the magnitude: near-zero outputs come from cancellation.
            assertTrue(Math.abs(a - e) <= 1e-5 * Math.max(1, Math.abs(e)), "element " + i + ": " + a + " vs " + e);
            positive += e > 0 ? 1 : 0;
        }
        assertTrue(positive > want.size() / 4 && positive < want.size(), "Relu should clip some, not all: " + positive);
    }

    @Test
    void convWhoseOutputIsAGraphOutputIsNotFused() throws Exception {
        Node conv = node("conv", "Conv", List.of("x", "w"), List.of("c"), Map.of());
        Node relu = node("relu", "Relu", List.of("c"), List.of("y"), Map.of());
        NpuProgram p = compile(
                graph("cr", List.of(conv, relu), Map.of("w", random(new int[] {2, 3, 1, 1}, 1)), List.of("c", "y")),
                CompileOptions.DEFAULT);
        assertEquals(List.of("c", "y"), p.layers().stream().map(Layer::name).toList());
        assertEquals(List.of("Conv", "Relu"), p.layers().stream().map(Layer::op).toList());
        assertEquals(List.of(), p.layers().get(0).fusedOps());
        var out = p.run(Map.of("x", random(X_SHAPE, 2)), LayerObserver.NONE);
        float[] c = out.get("c").real().floats();
        float[] y = out.get("y").real().floats();
        for (int i = 0; i < c.length; i++) {
            assertEquals(Math.max(0f, c[i]), y[i], 0f);
        }
        assertTrue(java.util.stream.IntStream.range(0, c.length).anyMatch(i -> c[i] < 0), "c keeps its negatives");
    }

    @Test
    void identityAndDropoutAreRemoved() throws Exception {
        List<Node> nodes = List.of(
                node("id", "Identity", List.of("x"), List.of("a"), Map.of()),
                node("relu", "Relu", List.of("a"), List.of("b"), Map.of()),
                node("drop", "Dropout", List.of("b"), List.of("d"), Map.of()),
                node("sig", "Sigmoid", List.of("d"), List.of("y"), Map.of()));
        NpuProgram p = compile(graph("idd", nodes, Map.of(), List.of("y")), CompileOptions.DEFAULT);
        assertEquals(
                List.of("Relu", "Sigmoid"), p.layers().stream().map(Layer::op).toList());
        assertEquals(List.of("x"), p.layers().get(0).inputs());
        assertEquals(List.of("b"), p.layers().get(1).inputs());
        assertTrue(p.graph().nodes().stream()
                .noneMatch(n -> n.opType().equals("Identity") || n.opType().equals("Dropout")));
        Tensor x = random(X_SHAPE, 3);
        float[] y = p.run(Map.of("x", x), LayerObserver.NONE).get("y").real().floats();
        for (int i = 0; i < y.length; i++) {
            assertEquals(1 / (1 + Math.exp(-Math.max(0, x.floats()[i]))), y[i], 1e-6);
        }
    }

    @Test
    void constantNodeBecomesAConstant() throws Exception {
        Tensor k = Tensor.ofFloats(new int[] {1, 3, 1, 1}, new float[] {1f, -2f, 0.5f});
        List<Node> nodes = List.of(
                node("const", "Constant", List.of(), List.of("k"), Map.of("value", Attribute.ofTensor(k))),
                node("add", "Add", List.of("x", "k"), List.of("y"), Map.of()));
        NpuProgram p = compile(graph("const", nodes, Map.of(), List.of("y")), CompileOptions.DEFAULT);
        assertEquals(List.of("Add"), p.layers().stream().map(Layer::op).toList());
        assertEquals(List.of("x"), p.layers().get(0).inputs(), "k is no runtime input");
        assertTrue(p.graph().isConstant("k"));
        assertTrue(p.graph().nodes().stream().noneMatch(n -> n.opType().equals("Constant")));
        Tensor x = random(X_SHAPE, 4);
        float[] y = p.run(Map.of("x", x), LayerObserver.NONE).get("y").real().floats();
        for (int i = 0; i < y.length; i++) {
            assertEquals(x.floats()[i] + k.floats()[i / 64], y[i], 0f);
        }
    }
}
