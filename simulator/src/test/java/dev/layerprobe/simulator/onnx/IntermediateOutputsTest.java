package dev.layerprobe.simulator.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.onnx.Onnx.ValueInfoProto;
import java.util.List;
import org.junit.jupiter.api.Test;

class IntermediateOutputsTest {
    /**
     * x -> Relu -> r -> Q -> rq -> DQ -> rd -> Sigmoid -> s -> Q -> sq -> DQ -> y (graph output),
     * with a float branch r2 = Neg(x) that nothing quantizes.
     */
    private static ModelProto qdqModel() {
        return qdqModel(false);
    }

    /** With {@code branch}, rd also feeds {@code r3 = Abs(rd)}: the first DequantizeLinear then has two readers. */
    private static ModelProto qdqModel(boolean branch) {
        GraphProto.Builder g = GraphProto.newBuilder()
                .setName("qdq")
                .addInitializer(TensorProtos.fromTensor("s1", Tensor.scalar(0.05f)))
                .addInitializer(TensorProtos.fromTensor("z1", Tensor.ofLongs(DType.INT8, new int[0], new long[] {-3})))
                .addInitializer(TensorProtos.fromTensor("s2", Tensor.scalar(1 / 256f)))
                .addNode(node("Relu", "relu", List.of("x"), "r"))
                .addNode(node("QuantizeLinear", "q1", List.of("r", "s1", "z1"), "rq"))
                .addNode(node("DequantizeLinear", "dq1", List.of("rq", "s1", "z1"), "rd"))
                .addNode(node("Sigmoid", "sigmoid", List.of("rd"), "s"))
                .addNode(node("QuantizeLinear", "q2", List.of("s", "s2"), "sq"))
                .addNode(node("DequantizeLinear", "dq2", List.of("sq", "s2"), "y"))
                .addNode(node("Neg", "neg", List.of("x"), "r2"))
                .addInput(OnnxGraphs.valueInfoProto("x", DType.FLOAT32, new int[] {1, 4}))
                .addOutput(ValueInfoProto.newBuilder().setName("y"));
        if (branch) {
            g.addNode(node("Abs", "abs", List.of("rd"), "r3"));
        }
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

    private static List<String> outputNames(ModelProto m) {
        return m.getGraph().getOutputList().stream()
                .map(ValueInfoProto::getName)
                .toList();
    }

    @Test
    void everyNodeOutputExposesEachOutputOnceUnderItsOwnName() {
        IntermediateOutputs e = IntermediateOutputs.everyNodeOutput(qdqModel());

        assertEquals(
                List.of("r", "rq", "rd", "s", "sq", "y", "r2"),
                e.values().stream().map(IntermediateOutputs.Exposed::layer).toList());
        assertTrue(e.values().stream().noneMatch(IntermediateOutputs.Exposed::isCodes));
        assertEquals(
                List.of("y", "r", "rq", "rd", "s", "sq", "r2"),
                outputNames(e.model()),
                "the existing graph output is not added twice");
    }

    @Test
    void quantizedLayersReportCodesUnderTheLayerNamesAndLeaveFusableTensorsAlone() {
        IntermediateOutputs e = IntermediateOutputs.quantizedLayers(qdqModel());

        List<IntermediateOutputs.Exposed> v = e.values();
        assertEquals(
                List.of("r", "y", "r2"),
                v.stream().map(IntermediateOutputs.Exposed::layer).toList());
        IntermediateOutputs.Exposed r = v.get(0);
        assertEquals("rq/layerprobe_codes", r.tensor(), "codes are fetched through an Identity");
        assertEquals("Relu", r.producer().getOpType());
        assertEquals(DType.INT8, r.quant().type());
        assertArrayEquals(new float[] {0.05f}, r.quant().scale());
        assertArrayEquals(new long[] {-3}, r.quant().zeroPoint());
        IntermediateOutputs.Exposed y = v.get(1);
        assertEquals(
                "sq/layerprobe_codes", y.tensor(), "a graph output's layer is the codes before its DequantizeLinear");
        assertEquals("Sigmoid", y.producer().getOpType());
        assertEquals(DType.UINT8, y.quant().type(), "no zero point means uint8");
        assertNull(v.get(2).quant(), "a float value nothing quantizes stays float");
        List<String> outputs = outputNames(e.model());
        assertEquals(List.of("y", "rq/layerprobe_codes", "sq/layerprobe_codes", "r2"), outputs);
        assertFalse(
                outputs.contains("s") || outputs.contains("rd") || outputs.contains("r"),
                "the tensors of a DQ -> op -> Q group stay internal so the runtime can fuse it");
    }

    @Test
    void anInt8PairOntoOneReaderIsHeldAsUint8AsOnnxRuntimeWouldAndItsCodesSayBy128() {
        IntermediateOutputs e = IntermediateOutputs.quantizedLayers(qdqModel());

        IntermediateOutputs.Exposed r = e.values().get(0);
        assertEquals(128, r.codeOffset());
        assertEquals(DType.INT8, r.quant().type(), "the reported mapping stays the model's");
        NodeProto q1 = e.model().getGraph().getNode(1);
        NodeProto dq1 = e.model().getGraph().getNode(2);
        assertEquals(q1.getInput(2), dq1.getInput(2));
        Tensor zp = TensorProtos.toTensor(e.model().getGraph().getInitializerList().stream()
                .filter(t -> t.getName().equals(q1.getInput(2)))
                .findFirst()
                .orElseThrow());
        assertEquals(DType.UINT8, zp.dtype());
        assertEquals(125, zp.getLong(0), "-3 + 128");
        assertEquals(0, e.values().get(1).codeOffset(), "a QuantizeLinear without zero point is uint8 already");
    }

    @Test
    void aPairWhoseDequantizeLinearHasTwoReadersStaysInt8() {
        IntermediateOutputs e = IntermediateOutputs.quantizedLayers(qdqModel(true));

        assertEquals(0, e.values().get(0).codeOffset());
        assertEquals("z1", e.model().getGraph().getNode(1).getInput(2));
    }
}
