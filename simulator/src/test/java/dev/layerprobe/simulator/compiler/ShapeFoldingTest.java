package dev.layerprobe.simulator.compiler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Shape → Gather → Unsqueeze → Concat → Reshape, as PyTorch exports a flatten, with static and dynamic inputs. */
class ShapeFoldingTest {

    static Node node(String name, String op, List<String> in, List<String> out, Map<String, Attribute> attrs) {
        return new Node(name, op, "", in, out, attrs);
    }

    static Tensor int64(int[] shape, long... v) {
        return Tensor.ofLongs(DType.INT64, shape, v);
    }

    static Tensor random(int[] shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(dev.layerprobe.core.tensor.Shapes.size(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 4 - 2);
        }
        return Tensor.ofFloats(shape, v);
    }

    static NpuProgram compile(Graph g, CompileOptions options) throws Exception {
        ModelProto m = OnnxGraphs.toModel(g, "test", Map.of());
        return Simulator.compile(m, g.name(), options);
    }

    /** x → Relu → r; y = Reshape(r, Concat(Unsqueeze(Gather(Shape(r), 0), [0]), [-1])). */
    private static Graph flattenGraph(int[] xShape) {
        List<Node> nodes = List.of(
                node("relu", "Relu", List.of("x"), List.of("r"), Map.of()),
                node("shape", "Shape", List.of("r"), List.of("s"), Map.of()),
                node("gather", "Gather", List.of("s", "zero"), List.of("n"), Map.of("axis", Attribute.ofInt(0))),
                node("unsqueeze", "Unsqueeze", List.of("n", "axes0"), List.of("n1"), Map.of()),
                node("concat", "Concat", List.of("n1", "minus1"), List.of("shp"), Map.of("axis", Attribute.ofInt(0))),
                node("reshape", "Reshape", List.of("r", "shp"), List.of("y"), Map.of()));
        Map<String, Tensor> constants = Map.of(
                "zero", int64(new int[0], 0),
                "axes0", int64(new int[] {1}, 0),
                "minus1", int64(new int[] {1}, -1));
        return new Graph(
                "flatten",
                nodes,
                constants,
                List.of(new ValueInfo("x", DType.FLOAT32, xShape)),
                List.of("y"),
                Map.of("", 13));
    }

    private static void assertFlattened(NpuProgram p, int batch) throws Exception {
        Tensor x = random(new int[] {batch, 3, 4, 4}, 5);
        Tensor y = p.run(Map.of("x", x), LayerObserver.NONE).get("y").real();
        assertArrayEquals(new int[] {batch, 48}, y.shape());
        float[] want = x.floats().clone();
        for (int i = 0; i < want.length; i++) {
            want[i] = Math.max(0f, want[i]);
        }
        assertArrayEquals(want, y.floats(), 0f);
    }

    @Test
    void staticInputFoldsTheShapeArithmetic() throws Exception {
        NpuProgram p = compile(flattenGraph(new int[] {1, 3, 4, 4}), CompileOptions.DEFAULT);
        assertEquals(
                List.of("Relu", "Reshape"), p.layers().stream().map(Layer::op).toList());
        assertEquals(List.of("r"), p.layers().get(1).inputs(), "the target shape is now a constant");
        assertFlattened(p, 1);
    }

    @Test
    void dynamicInputKeepsShapeAsALayer() throws Exception {
        NpuProgram p = compile(flattenGraph(new int[] {-1, 3, 4, 4}), CompileOptions.DEFAULT);
        assertEquals(
                List.of("Relu", "Shape", "Gather", "Unsqueeze", "Concat", "Reshape"),
                p.layers().stream().map(Layer::op).toList());
        assertFlattened(p, 2);
        assertFlattened(p, 1);
    }

    @Test
    void inputShapesGivenAtCompileTimeMakeItStatic() throws Exception {
        NpuProgram p = compile(
                flattenGraph(new int[] {-1, 3, 4, 4}),
                CompileOptions.DEFAULT.withInputShapes(Map.of("x", new int[] {2, 3, 4, 4})));
        assertEquals(
                List.of("Relu", "Reshape"), p.layers().stream().map(Layer::op).toList());
        assertFlattened(p, 2);
    }

    @Test
    void shapeStartAndEndAreRespected() throws Exception {
        // y = Reshape(x, Concat(Shape(x, start=0, end=1), [-1])) for x [2, 3, 4]: [2, 12]; Size(x) = 24 feeds a Reshape
        // to [24].
        List<Node> nodes = List.of(
                node(
                        "shape",
                        "Shape",
                        List.of("x"),
                        List.of("s"),
                        Map.of("start", Attribute.ofInt(0), "end", Attribute.ofInt(-2))),
                node("concat", "Concat", List.of("s", "minus1"), List.of("shp"), Map.of("axis", Attribute.ofInt(0))),
                node("reshape", "Reshape", List.of("x", "shp"), List.of("y"), Map.of()),
                node("size", "Size", List.of("x"), List.of("n"), Map.of()),
                node("unsqueeze", "Unsqueeze", List.of("n", "axes0"), List.of("n1"), Map.of()),
                node("flat", "Reshape", List.of("x", "n1"), List.of("z"), Map.of()));
        Graph g = new Graph(
                "slice",
                nodes,
                Map.of("minus1", int64(new int[] {1}, -1), "axes0", int64(new int[] {1}, 0)),
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {2, 3, 4})),
                List.of("y", "z"),
                Map.of("", 15));
        NpuProgram p = compile(g, CompileOptions.DEFAULT);
        assertEquals(
                List.of("Reshape", "Reshape"),
                p.layers().stream().map(Layer::op).toList());
        Tensor x = random(new int[] {2, 3, 4}, 9);
        var out = p.run(Map.of("x", x), LayerObserver.NONE);
        assertArrayEquals(new int[] {2, 12}, out.get("y").real().shape());
        assertArrayEquals(new int[] {24}, out.get("z").real().shape());
        assertArrayEquals(x.floats(), out.get("y").real().floats(), 0f);
    }

    @Test
    void shapeOfADataDependentReshapeIsNotFolded() throws Exception {
        // r's shape comes from the values of input t; on zeros, Reshape(x, [0, 0]) would copy x's
        // shape [1, 12] and a folded Shape would be wrong for every real t.
        List<Node> nodes = List.of(
                node("reshape", "Reshape", List.of("x", "t"), List.of("r"), Map.of()),
                node("shape", "Shape", List.of("r"), List.of("s"), Map.of()),
                node("again", "Reshape", List.of("x", "s"), List.of("y"), Map.of()));
        Graph g = new Graph(
                "dd",
                nodes,
                Map.of(),
                List.of(
                        new ValueInfo("x", DType.FLOAT32, new int[] {1, 12}),
                        new ValueInfo("t", DType.INT64, new int[] {2})),
                List.of("y"),
                Map.of("", 13));
        NpuProgram p = compile(g, CompileOptions.DEFAULT);
        assertEquals(
                List.of("Reshape", "Shape", "Reshape"),
                p.layers().stream().map(Layer::op).toList());
        Tensor x = random(new int[] {1, 12}, 3);
        Tensor y = p.run(Map.of("x", x, "t", int64(new int[] {2}, 3, 4)), LayerObserver.NONE)
                .get("y")
                .real();
        assertArrayEquals(new int[] {3, 4}, y.shape());
    }
}
