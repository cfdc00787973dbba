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
 * constants, an omitted optional input, a quantized argument, several outputs.
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
}
