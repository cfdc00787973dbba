package dev.layerprobe.simulator.compiler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.kernels.FloatKernel;
import dev.layerprobe.simulator.kernels.FloatKernels;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A one-node layer binds its inputs to arguments and constants once ({@code FloatLayers.single});
 * it must compute what the by-name evaluation of the same node computes: the same argument twice,
 * constants, an omitted optional input, a quantized argument, several outputs. A fused layer's
 * nodes write into intermediate values they read last; the values must be those of every kernel
 * writing a fresh array, the layer's argument untouched, and a value whose data another live value
 * shares (a Reshape's) never written.
 */
class FloatLayersTest {
    private static final Tensor X = Tensor.ofFloats(new int[] {2, 3}, new float[] {-2.5f, -1f, 0f, 0.5f, 1.5f, 3f});
    private static final Map<String, Tensor> CONSTANTS = Map.of(
            "w", Tensor.ofFloats(new int[] {4, 3}, new float[] {1, 2, 3, -1, 0.5f, 2, 0, 1, -3, 2, 2, 2}),
            "c", Tensor.ofFloats(new int[] {4}, new float[] {0.25f, -0.5f, 1, 2}),
            "hi", Tensor.scalar(1f));

    private static Graph graph(Node n) {
        return new Graph("g", List.of(n), CONSTANTS, List.of(), List.of(n.output(0)), Map.of("", 13));
    }

    private static void assertSameAsByName(Node n, List<String> inputs, LayerValue... args) {
        Graph g = graph(n);
        LayerValue[] bound = FloatLayers.build(g, List.of(n), inputs).run(args);
        FloatKernel[] kernels = {FloatKernels.create(n, 13)};
        Tensor[] byName = FloatLayers.evaluate(
                List.of(n), kernels, FloatLayers.constantsOf(g, n), inputs, FloatLayers.real(args));
        assertEquals(byName.length, bound.length, n.opType());
        for (int i = 0; i < bound.length; i++) {
            assertArrayEquals(byName[i].shape(), bound[i].real().shape(), n.opType());
            assertArrayEquals(byName[i].floats(), bound[i].real().floats(), 0f, n.opType());
        }
    }

    @Test
    void oneNodeLayersComputeWhatTheByNameEvaluationComputes() {
        LayerValue x = LayerValue.of(X);
        assertSameAsByName(new Node("m", "Mul", "", List.of("x", "x"), List.of("y"), Map.of()), List.of("x"), x);
        assertSameAsByName(
                new Node("g", "Gemm", "", List.of("x", "w", "c"), List.of("y"), Map.of("transB", Attribute.ofInt(1))),
                List.of("x"),
                x);
        // Clip with its min omitted and its max a constant.
        assertSameAsByName(new Node("c", "Clip", "", List.of("x", "", "hi"), List.of("y"), Map.of()), List.of("x"), x);
        // Two arguments, in the other order than the node reads them.
        Tensor z = Tensor.ofFloats(new int[] {3}, new float[] {10, 20, 30});
        assertSameAsByName(
                new Node("s", "Sub", "", List.of("x", "z"), List.of("y"), Map.of()),
                List.of("z", "x"),
                LayerValue.of(z),
                x);
        // A quantized argument is read as its real values.
        QTensor codes = QTensor.quantize(X, QuantParams.perTensor(DType.INT8, 0.05f, 3));
        assertSameAsByName(
                new Node("a", "Add", "", List.of("x", "c2"), List.of("y"), Map.of()),
                List.of("x", "c2"),
                LayerValue.of(codes),
                x);
        // Several outputs.
        assertSameAsByName(
                new Node("p", "Split", "", List.of("x"), List.of("y", "y2", "y3"), Map.of("axis", Attribute.ofInt(1))),
                List.of("x"),
                x);
    }

    /** The nodes run one after another, each kernel into a fresh array. */
    private static Tensor fresh(List<Node> nodes, Map<String, Tensor> constants, String input, Tensor x) {
        Map<String, Tensor> env = new java.util.HashMap<>(constants);
        env.put(input, x);
        Tensor last = null;
        for (Node n : nodes) {
            Tensor[] in = n.inputs().stream().map(env::get).toArray(Tensor[]::new);
            last = FloatKernels.create(n, 13).run(in)[0];
            env.put(n.output(0), last);
        }
        return last;
    }

    @Test
    void fusedNodesWriteIntoValuesTheyReadLastAndOnlyThose() {
        Map<String, Tensor> constants = Map.of(
                "sqrt2", Tensor.scalar(1.4142135f),
                "one", Tensor.scalar(1f),
                "half", Tensor.scalar(0.5f),
                "shape", Tensor.ofLongs(DType.INT64, new int[] {1}, new long[] {-1}));
        List<Node> gelu = List.of(
                new Node("d", "Div", "", List.of("x", "sqrt2"), List.of("d"), Map.of()),
                new Node("e", "Erf", "", List.of("d"), List.of("e"), Map.of()),
                new Node("a", "Add", "", List.of("e", "one"), List.of("a"), Map.of()),
                new Node("m", "Mul", "", List.of("x", "a"), List.of("m"), Map.of()),
                new Node("y", "Mul", "", List.of("m", "half"), List.of("y"), Map.of()));
        // r is read last by Add, but its data lives on in the Reshape's s, read after.
        List<Node> aliased = List.of(
                new Node("r", "Relu", "", List.of("x"), List.of("r"), Map.of()),
                new Node("s", "Reshape", "", List.of("r", "shape"), List.of("s"), Map.of()),
                new Node("p", "Add", "", List.of("r", "one"), List.of("p"), Map.of()),
                new Node("q", "Mul", "", List.of("p", "s"), List.of("q"), Map.of()));
        for (List<Node> nodes : List.of(gelu, aliased)) {
            float[] v = new float[6000];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) Math.sin(i * 0.37) * 5f;
            }
            Tensor x = Tensor.ofFloats(new int[] {v.length}, v.clone());
            Graph g = new Graph(
                    "g",
                    nodes,
                    constants,
                    List.of(),
                    List.of(nodes.get(nodes.size() - 1).output(0)),
                    Map.of("", 13));
            LayerValue[] out = FloatLayers.build(g, nodes, List.of("x")).run(new LayerValue[] {LayerValue.of(x)});
            Tensor expected = fresh(nodes, constants, "x", Tensor.ofFloats(new int[] {v.length}, v.clone()));
            assertArrayEquals(
                    expected.floats(), out[0].real().floats(), 0f, nodes.get(0).opType());
            assertArrayEquals(v, x.floats(), 0f, "the argument is not written");
        }
    }
}
