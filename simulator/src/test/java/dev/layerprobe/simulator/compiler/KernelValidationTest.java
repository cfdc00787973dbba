package dev.layerprobe.simulator.compiler;

import static dev.layerprobe.simulator.compiler.ShapeFoldingTest.compile;
import static dev.layerprobe.simulator.compiler.ShapeFoldingTest.node;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One UNSUPPORTED_OP error naming every unsupported node, before anything is built or run. */
class KernelValidationTest {
    private static Graph graph(List<Node> nodes, String output) {
        return new Graph(
                "g",
                nodes,
                Map.of(),
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, 2, 4, 4})),
                List.of(output),
                Map.of("", 17, "com.microsoft", 1));
    }

    @Test
    void everyProblemIsReportedOnceInGraphOrder() {
        List<Node> nodes = List.of(
                node("relu_1", "Relu", List.of("x"), List.of("a"), Map.of()),
                node("bernoulli_7", "Bernoulli", List.of("a"), List.of("b"), Map.of()),
                node("resize_8", "Resize", List.of("b"), List.of("c"), Map.of("mode", Attribute.ofString("area"))),
                new Node("gelu_ms", "Gelu", "com.microsoft", List.of("c"), List.of("d"), Map.of()),
                node("det_9", "Det", List.of("d"), List.of("y"), Map.of()));
        SimulatorException e = assertThrows(SimulatorException.class, () -> KernelValidation.check(graph(nodes, "y")));
        assertEquals(Code.UNSUPPORTED_OP, e.code());
        String m = e.getMessage();
        assertTrue(m.startsWith("unsupported ops [Bernoulli, Det, Resize, com.microsoft.Gelu] in 4 nodes: "), m);
        int bernoulli = m.indexOf("'bernoulli_7' (Bernoulli), opset 17: no kernel");
        int resize = m.indexOf(
                "'resize_8' (Resize), opset 17: mode='area' is not supported (valid: [nearest, linear, bilinear, cubic])");
        int gelu = m.indexOf("'gelu_ms' (com.microsoft.Gelu), opset 1: no kernel for domain com.microsoft");
        int det = m.indexOf("'det_9' (Det), opset 17: no kernel");
        assertTrue(bernoulli > 0 && resize > bernoulli && gelu > resize && det > gelu, m);
        assertTrue(!m.contains("relu_1"), m);
    }

    @Test
    void longListsAreCutAfterTwentyNodes() {
        List<Node> nodes = new ArrayList<>();
        String in = "x";
        for (int i = 0; i < 25; i++) {
            nodes.add(node("det_" + i, "Det", List.of(in), List.of("t" + i), Map.of()));
            in = "t" + i;
        }
        Graph g = graph(nodes, in);
        SimulatorException e = assertThrows(SimulatorException.class, () -> KernelValidation.check(g));
        String m = e.getMessage();
        assertTrue(m.startsWith("unsupported op [Det] in 25 nodes: 'det_0' (Det), opset 17: no kernel"), m);
        assertTrue(m.contains("'det_19' (Det"), m);
        assertTrue(!m.contains("'det_20'"), m);
        assertTrue(m.endsWith("; and 5 more"), m);
    }

    @Test
    void supportedGraphPasses() {
        List<Node> nodes = List.of(
                node("relu", "Relu", List.of("x"), List.of("a"), Map.of()),
                node(
                        "resize",
                        "Resize",
                        List.of("a", "", "s"),
                        List.of("y"),
                        Map.of("mode", Attribute.ofString("cubic"))));
        assertDoesNotThrow(() -> KernelValidation.check(graph(nodes, "y")));
    }

    @Test
    void theCompilerReportsAllProblemsBeforeBuildingLayers() {
        List<Node> nodes = List.of(
                node(
                        "pool",
                        "MaxPool",
                        List.of("x"),
                        List.of("a"),
                        Map.of(
                                "kernel_shape",
                                Attribute.ofInts(2, 2),
                                "auto_pad",
                                Attribute.ofString("SAME_SIDEWAYS"))),
                node("det_9", "Det", List.of("a"), List.of("y"), Map.of()));
        SimulatorException e =
                assertThrows(SimulatorException.class, () -> compile(graph(nodes, "y"), CompileOptions.DEFAULT));
        assertEquals(Code.UNSUPPORTED_OP, e.code());
        assertTrue(e.getMessage().contains("'pool' (MaxPool), opset 17: auto_pad='SAME_SIDEWAYS'"), e.getMessage());
        assertTrue(e.getMessage().contains("'det_9' (Det), opset 17: no kernel"), e.getMessage());
    }
}
