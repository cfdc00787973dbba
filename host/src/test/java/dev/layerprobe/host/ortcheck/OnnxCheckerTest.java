package dev.layerprobe.host.ortcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.AttributeProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.onnx.TensorProtos;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** {@link OnnxChecker} finds each kind of fault a QDQ writer can make, and passes a correct file. */
class OnnxCheckerTest {
    /** x -> Q -> DQ -> Relu -> y, ONNX domain, at the given opset. */
    private static ModelProto model(int opset) {
        Map<String, Tensor> c =
                Map.of("s", Tensor.scalar(0.1f), "z", Tensor.ofLongs(DType.INT8, new int[0], new long[] {0}));
        Graph g = new Graph(
                "g",
                List.of(
                        new Node("q", "QuantizeLinear", "", List.of("x", "s", "z"), List.of("xq"), Map.of()),
                        new Node("dq", "DequantizeLinear", "", List.of("xq", "s", "z"), List.of("xd"), Map.of()),
                        new Node("relu", "Relu", "", List.of("xd"), List.of("y"), Map.of())),
                c,
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, 4})),
                List.of("y"),
                Map.of("", opset));
        return OnnxGraphs.toModel(g, "test", Map.of());
    }

    private static ModelProto editNode(ModelProto m, int index, UnaryOperator<NodeProto.Builder> edit) {
        ModelProto.Builder b = m.toBuilder();
        b.getGraphBuilder().setNode(index, edit.apply(b.getGraph().getNode(index).toBuilder()));
        return b.build();
    }

    private static void assertProblem(ModelProto m, String expected) {
        List<String> p = OnnxChecker.problems(m);
        assertTrue(p.stream().anyMatch(s -> s.contains(expected)), "expected a problem with '" + expected + "': " + p);
    }

    @Test
    void aCorrectQdqModelHasNoProblems() {
        assertEquals(List.of(), OnnxChecker.problems(model(13)));
    }

    @Test
    void repeatedNodeNamesAndOutputsAreFound() {
        assertProblem(editNode(model(13), 1, n -> n.setName("q")), "two nodes are named 'q'");
        assertProblem(editNode(model(13), 2, n -> n.setOutput(0, "xd")), "writes 'xd', which is already assigned");
        assertProblem(editNode(model(13), 0, n -> n.setOutput(0, "s")), "writes 's', which is already assigned");
    }

    @Test
    void inputsReadBeforeTheyExistAreFound() {
        ModelProto m = model(13);
        ModelProto.Builder b = m.toBuilder();
        NodeProto relu = b.getGraph().getNode(2);
        b.getGraphBuilder().removeNode(2).addNode(0, relu);
        assertProblem(b.build(), "Relu 'relu' reads 'xd'");
        assertProblem(editNode(m, 2, n -> n.setInput(0, "nowhere")), "reads 'nowhere'");
    }

    @Test
    void quantizeLinearBeforeOpset10AndAxisBefore13AreFound() {
        assertProblem(model(9), "QuantizeLinear 'q' does not exist at opset 9");
        AttributeProto axis = AttributeProto.newBuilder()
                .setName("axis")
                .setType(AttributeProto.AttributeType.INT)
                .setI(0)
                .build();
        assertProblem(editNode(model(11), 1, n -> n.addAttribute(axis)), "has attribute axis");
        assertEquals(List.of(), OnnxChecker.problems(editNode(model(13), 1, n -> n.addAttribute(axis))));
    }

    @Test
    void domainsMustBeKnownAndImported() {
        assertProblem(
                editNode(model(13), 1, n -> n.setDomain("com.microsoft")),
                "in domain 'com.microsoft', which the model does not import");
        ModelProto imported = editNode(model(11), 1, n -> n.setDomain("com.microsoft")).toBuilder()
                .addOpsetImport(OperatorSetIdProto.newBuilder()
                        .setDomain("com.microsoft")
                        .setVersion(1))
                .build();
        assertEquals(List.of(), OnnxChecker.problems(imported));
        assertProblem(editNode(model(13), 2, n -> n.setDomain("org.example")), "unknown domain 'org.example'");
    }

    @Test
    void perAxisScalesMustMatchTheInput() {
        ModelProto.Builder b = model(13).toBuilder();
        b.getGraphBuilder()
                .addInitializer(
                        TensorProtos.fromTensor("w", Tensor.ofLongs(DType.INT8, new int[] {3, 2}, new long[6])));
        b.getGraphBuilder().addInitializer(TensorProtos.fromTensor("ws", Tensor.ofFloats(new int[] {2}, new float[] {
            0.1f, 0.2f
        })));
        b.getGraphBuilder()
                .addInitializer(TensorProtos.fromTensor("wz", Tensor.ofLongs(DType.INT8, new int[] {2}, new long[2])));
        AttributeProto axis = AttributeProto.newBuilder()
                .setName("axis")
                .setType(AttributeProto.AttributeType.INT)
                .setI(0)
                .build();
        b.getGraphBuilder()
                .addNode(NodeProto.newBuilder()
                        .setName("wdq")
                        .setOpType("DequantizeLinear")
                        .addInput("w")
                        .addInput("ws")
                        .addInput("wz")
                        .addOutput("wd")
                        .addAttribute(axis));
        assertProblem(b.build(), "2 scales along axis 0 of an input of shape [3, 2]");
        b.getGraphBuilder()
                .setNode(
                        3,
                        b.getGraph().getNode(3).toBuilder()
                                .setAttribute(0, axis.toBuilder().setI(1)));
        assertEquals(List.of(), OnnxChecker.problems(b.build()));
    }

    @Test
    void oldOpFormsAtNewerOpsetsAreFound() {
        ModelProto.Builder b = model(13).toBuilder();
        b.getGraphBuilder()
                .addNode(NodeProto.newBuilder()
                        .setName("slice")
                        .setOpType("Slice")
                        .addInput("y")
                        .addOutput("y2")
                        .addAttribute(AttributeProto.newBuilder()
                                .setName("starts")
                                .setType(AttributeProto.AttributeType.INTS)
                                .addInts(0)));
        assertProblem(b.build(), "Slice 'slice' has attribute starts");
    }
}
