package dev.layerprobe.simulator.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.AttributeProto;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.onnx.Onnx.TypeProto;
import dev.layerprobe.onnx.Onnx.ValueInfoProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.onnx.TensorProtos;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Subgraph attributes: read and written back, their outer reads seen by passes, and run in a program. */
class SubgraphsTest {
    /** y = If(x.sum > 0) then Identity(xi) * k else -xi, with xi = Identity(x) and k an outer constant. */
    private static ModelProto model(boolean sequenceBranch) {
        GraphProto.Builder thenB = GraphProto.newBuilder()
                .setName("then")
                .addNode(NodeProto.newBuilder()
                        .setOpType("Mul")
                        .setName("then_mul")
                        .addInput("xi")
                        .addInput("k")
                        .addOutput("t"));
        if (sequenceBranch) {
            thenB.addOutput(ValueInfoProto.newBuilder()
                    .setName("t")
                    .setType(TypeProto.newBuilder().setSequenceType(TypeProto.Sequence.newBuilder())));
        } else {
            thenB.addOutput(OnnxGraphs.valueInfoProto("t", DType.FLOAT32, new int[] {2, 3}));
        }
        GraphProto elseB = GraphProto.newBuilder()
                .setName("else")
                .addNode(NodeProto.newBuilder()
                        .setOpType("Neg")
                        .setName("else_neg")
                        .addInput("xi")
                        .addOutput("e"))
                .addOutput(OnnxGraphs.valueInfoProto("e", DType.FLOAT32, new int[] {2, 3}))
                .build();
        GraphProto g = GraphProto.newBuilder()
                .setName("m")
                .addInput(OnnxGraphs.valueInfoProto("x", DType.FLOAT32, new int[] {2, 3}))
                .addInitializer(TensorProtos.fromTensor("k", Tensor.scalar(3f)))
                .addInitializer(TensorProtos.fromTensor("zero", Tensor.scalar(0f)))
                .addNode(NodeProto.newBuilder()
                        .setOpType("Identity")
                        .setName("id")
                        .addInput("x")
                        .addOutput("xi"))
                .addNode(NodeProto.newBuilder()
                        .setOpType("ReduceSum")
                        .setName("sum")
                        .addInput("x")
                        .addOutput("s")
                        .addAttribute(AttributeProto.newBuilder()
                                .setName("keepdims")
                                .setType(AttributeProto.AttributeType.INT)
                                .setI(0)))
                .addNode(NodeProto.newBuilder()
                        .setOpType("Greater")
                        .setName("gt")
                        .addInput("s")
                        .addInput("zero")
                        .addOutput("c"))
                .addNode(NodeProto.newBuilder()
                        .setOpType("If")
                        .setName("if")
                        .addInput("c")
                        .addOutput("y")
                        .addAttribute(AttributeProto.newBuilder()
                                .setName("then_branch")
                                .setType(AttributeProto.AttributeType.GRAPH)
                                .setG(thenB))
                        .addAttribute(AttributeProto.newBuilder()
                                .setName("else_branch")
                                .setType(AttributeProto.AttributeType.GRAPH)
                                .setG(elseB)))
                .addOutput(OnnxGraphs.valueInfoProto("y", DType.FLOAT32, new int[] {2, 3}))
                .build();
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
                .setGraph(g)
                .build();
    }

    @Test
    void graphAttributesRoundTrip() throws SimulatorException {
        Graph g = OnnxGraphs.toGraph(model(false), null);
        Node ifNode = g.nodes().stream()
                .filter(n -> n.opType().equals("If"))
                .findFirst()
                .orElseThrow();
        assertEquals(Attribute.Kind.GRAPH, ifNode.attr("then_branch").kind());
        assertEquals(List.of("xi", "k"), List.copyOf(Subgraphs.outerReads(ifNode)));
        assertTrue(g.consumers("k").contains(ifNode));
        ModelProto again = OnnxGraphs.toModel(g, "test", Map.of());
        Graph g2 = OnnxGraphs.toGraph(again, null);
        Node if2 = g2.nodes().stream()
                .filter(n -> n.opType().equals("If"))
                .findFirst()
                .orElseThrow();
        Graph thenBranch = if2.attr("then_branch").g();
        assertEquals(List.of("t"), thenBranch.outputs());
        assertEquals(DType.FLOAT32, thenBranch.outputInfos().get("t").dtype());
        assertEquals("then_mul", thenBranch.nodes().get(0).name());
    }

    @Test
    void passesKeepWhatBodiesRead() throws SimulatorException {
        NpuProgram p = Simulator.compile(model(false), "m", CompileOptions.DEFAULT);
        // Identity folding renamed the branches' reads of xi to x; k stayed as a constant.
        Node ifNode = p.graph().nodes().stream()
                .filter(n -> n.opType().equals("If"))
                .findFirst()
                .orElseThrow();
        assertEquals(List.of("x", "k"), List.copyOf(Subgraphs.outerReads(ifNode)));
        assertTrue(p.graph().isConstant("k"));
        float[] x = {1, 2, 3, 4, 5, 6};
        Map<String, LayerValue> y = p.run(Map.of("x", Tensor.ofFloats(new int[] {2, 3}, x)), (l, v) -> {});
        assertEquals(18f, y.get("y").real().floats()[5]);
        float[] neg = {-1, -2, -3, -4, -5, -6};
        y = p.run(Map.of("x", Tensor.ofFloats(new int[] {2, 3}, neg)), (l, v) -> {});
        assertEquals(6f, y.get("y").real().floats()[5]);
        assertTrue(p.branchOwner("t").isPresent() && p.branchOwner("e").isPresent());
    }

    @Test
    void sequenceValuesInASubgraphAreRefusedInOneLine() {
        SimulatorException e = assertThrows(SimulatorException.class, () -> OnnxGraphs.toGraph(model(true), null));
        assertEquals(Code.UNSUPPORTED_OP, e.code());
        assertTrue(
                e.getMessage().contains("node 'if' (If)")
                        && e.getMessage().contains("sequence types are not supported"),
                e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }
}
