package dev.layerprobe.simulator.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.AttributeProto;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.onnx.Onnx.ValueInfoProto;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a prefix keeps; ONNX Runtime loading prefixes of real models is host's PrefixModelsOrtTest. */
class PrefixModelsTest {
    /**
     * Inputs x and m; r = Relu(x) quantized by q/dq into rd; c = Cond(...) an If whose branches read
     * rd and w from the outer scope; t = Neg(m), which a cut at rd does not need.
     */
    private static ModelProto model() {
        GraphProto then = GraphProto.newBuilder()
                .setName("then")
                .addNode(node("Add", "inner_add", List.of("rd", "w"), "a"))
                .addOutput(ValueInfoProto.newBuilder().setName("a"))
                .build();
        GraphProto otherwise = GraphProto.newBuilder()
                .setName("else")
                .addNode(node("Identity", "inner_id", List.of("rd"), "b"))
                .addOutput(ValueInfoProto.newBuilder().setName("b"))
                .build();
        NodeProto cond = node("If", "if", List.of("flag"), "c").toBuilder()
                .addAttribute(AttributeProto.newBuilder().setName("then_branch").setG(then))
                .addAttribute(AttributeProto.newBuilder().setName("else_branch").setG(otherwise))
                .build();
        GraphProto g = GraphProto.newBuilder()
                .setName("g")
                .addInitializer(TensorProtos.fromTensor("s", Tensor.scalar(0.05f)))
                .addInitializer(TensorProtos.fromTensor("w", Tensor.ofFloats(new int[] {1, 4}, new float[4])))
                .addInitializer(TensorProtos.fromTensor("flag", Tensor.ofLongs(DType.BOOL, new int[0], new long[] {1})))
                .addInitializer(TensorProtos.fromTensor("unused", Tensor.scalar(1f)))
                .addNode(node("Relu", "relu", List.of("x"), "r"))
                .addNode(node("QuantizeLinear", "q", List.of("r", "s"), "rq"))
                .addNode(node("DequantizeLinear", "dq", List.of("rq", "s"), "rd"))
                .addNode(cond)
                .addNode(node("Neg", "neg", List.of("m"), "t"))
                .addInput(OnnxGraphs.valueInfoProto("x", DType.FLOAT32, new int[] {1, 4}))
                .addInput(OnnxGraphs.valueInfoProto("m", DType.FLOAT32, new int[] {1, 4}))
                .addValueInfo(OnnxGraphs.valueInfoProto("rd", DType.FLOAT32, new int[] {1, 4}))
                .addValueInfo(OnnxGraphs.valueInfoProto("t", DType.FLOAT32, new int[] {1, 4}))
                .addOutput(OnnxGraphs.valueInfoProto("c", DType.FLOAT32, new int[] {1, 4}))
                .addOutput(OnnxGraphs.valueInfoProto("t", DType.FLOAT32, new int[] {1, 4}))
                .build();
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(g)
                .build();
    }

    private static NodeProto node(String op, String name, List<String> inputs, String output) {
        return NodeProto.newBuilder()
                .setOpType(op)
                .setName(name)
                .addAllInput(inputs)
                .addOutput(output)
                .build();
    }

    private static List<String> nodes(ModelProto m) {
        return m.getGraph().getNodeList().stream().map(NodeProto::getName).toList();
    }

    private static List<String> inputs(ModelProto m) {
        return m.getGraph().getInputList().stream().map(ValueInfoProto::getName).toList();
    }

    private static List<String> initializers(ModelProto m) {
        return m.getGraph().getInitializerList().stream()
                .map(TensorProto::getName)
                .toList();
    }

    @Test
    void aQuantizedLayerIsCutAfterItsQuantizationPairWithOnlyWhatComputesIt() {
        ModelProto m = model();
        assertEquals("rd", PrefixModels.layerCut(m, "r"));
        assertEquals("t", PrefixModels.layerCut(m, "t"), "a float value is cut at itself");

        ModelProto p = PrefixModels.atLayer(m, "r");

        assertEquals(List.of("relu", "q", "dq"), nodes(p));
        assertEquals(List.of("x"), inputs(p), "an input the prefix does not read is dropped");
        assertEquals(List.of("s"), initializers(p));
        assertEquals(
                List.of("rd"),
                p.getGraph().getOutputList().stream()
                        .map(ValueInfoProto::getName)
                        .toList());
        assertEquals(
                DType.FLOAT32.onnxCode(),
                p.getGraph().getOutput(0).getType().getTensorType().getElemType(),
                "the cut keeps the type value_info declares");
        assertEquals(0, p.getGraph().getValueInfoCount(), "the output's value_info is not repeated");
        assertEquals(m.getOpsetImportList(), p.getOpsetImportList());
    }

    @Test
    void aControlFlowNodeKeepsWhatItsBranchesReadFromTheOuterScope() {
        ModelProto p = PrefixModels.cut(model(), List.of("c"));

        assertEquals(List.of("relu", "q", "dq", "if"), nodes(p));
        assertEquals(List.of("s", "w", "flag"), initializers(p));
        assertEquals(List.of("x"), inputs(p));
        assertEquals("c", p.getGraph().getOutput(0).getName());
    }

    @Test
    void aValueTheGraphDoesNotHaveIsRefused() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> PrefixModels.cut(model(), List.of("nope")));
        assertEquals("no value 'nope' in the model's graph to cut at", e.getMessage());
    }
}
