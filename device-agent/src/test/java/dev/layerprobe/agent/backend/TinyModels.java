package dev.layerprobe.agent.backend;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.onnx.Onnx.ValueInfoProto;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.onnx.TensorProtos;
import java.util.List;

/** ONNX models small enough to write in a test. */
public final class TinyModels {
    private TinyModels() {}

    /**
     * A chain of {@code layers} elementwise float layers (Sigmoid and Tanh in turn, which no
     * compiler pass fuses) on an input {@code x} of shape 1 x channels x size x size: each layer
     * is its own dump of {@code channels * size * size * 4} bytes.
     */
    public static byte[] chain(int layers, int channels, int size) {
        int[] shape = {1, channels, size, size};
        GraphProto.Builder graph =
                GraphProto.newBuilder().setName("chain").addInput(OnnxGraphs.valueInfoProto("x", DType.FLOAT32, shape));
        String prev = "x";
        for (int i = 0; i < layers; i++) {
            String out = i == layers - 1 ? "y" : "t" + i;
            graph.addNode(NodeProto.newBuilder()
                    .setName("n" + i)
                    .setOpType(i % 2 == 0 ? "Sigmoid" : "Tanh")
                    .addInput(prev)
                    .addOutput(out));
            prev = out;
        }
        graph.addOutput(OnnxGraphs.valueInfoProto("y", DType.FLOAT32, shape));
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(graph)
                .build()
                .toByteArray();
    }

    /** {@code y = Relu(x)}, x a float 1x4 named {@code x}. */
    public static byte[] relu() {
        GraphProto graph = GraphProto.newBuilder()
                .setName("tiny")
                .addNode(NodeProto.newBuilder()
                        .setName("relu")
                        .setOpType("Relu")
                        .addInput("x")
                        .addOutput("y"))
                .addInput(OnnxGraphs.valueInfoProto("x", DType.FLOAT32, new int[] {1, 4}))
                .addOutput(OnnxGraphs.valueInfoProto("y", DType.FLOAT32, new int[] {1, 4}))
                .build();
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(graph)
                .build()
                .toByteArray();
    }

    /** {@code a = Relu(x); b = Sigmoid(a); y = Neg(b)}, x a float 1x4: three float layers in a chain. */
    public static byte[] chain() {
        GraphProto graph = GraphProto.newBuilder()
                .setName("chain")
                .addNode(node("Relu", "relu", List.of("x"), "a"))
                .addNode(node("Sigmoid", "sigmoid", List.of("a"), "b"))
                .addNode(node("Neg", "neg", List.of("b"), "y"))
                .addInput(OnnxGraphs.valueInfoProto("x", DType.FLOAT32, new int[] {1, 4}))
                .addOutput(OnnxGraphs.valueInfoProto("y", DType.FLOAT32, new int[] {1, 4}))
                .build();
        return model(graph);
    }

    /** Scale and zero point of {@link #qdqRelu()}'s output. */
    public static final float QDQ_SCALE = 0.03125f;

    public static final int QDQ_ZERO_POINT = -128;

    /**
     * A QDQ model of one integer layer: {@code x -> Q -> DQ -> Relu -> Q -> DQ -> y}, x a float 1x4
     * quantized int8 (scale 1/32, zero point -128 on both sides), so y's codes are
     * {@code max(round(32 x) - 128, -128)}.
     */
    public static byte[] qdqRelu() {
        GraphProto graph = GraphProto.newBuilder()
                .setName("qdq_relu")
                .addInitializer(TensorProtos.fromTensor("s", Tensor.scalar(QDQ_SCALE)))
                .addInitializer(TensorProtos.fromTensor(
                        "z", Tensor.ofLongs(DType.INT8, new int[0], new long[] {QDQ_ZERO_POINT})))
                .addNode(node("QuantizeLinear", "q_x", List.of("x", "s", "z"), "x_q"))
                .addNode(node("DequantizeLinear", "dq_x", List.of("x_q", "s", "z"), "x_dq"))
                .addNode(node("Relu", "relu", List.of("x_dq"), "r"))
                .addNode(node("QuantizeLinear", "q_r", List.of("r", "s", "z"), "r_q"))
                .addNode(node("DequantizeLinear", "dq_r", List.of("r_q", "s", "z"), "y"))
                .addInput(OnnxGraphs.valueInfoProto("x", DType.FLOAT32, new int[] {1, 4}))
                .addOutput(OnnxGraphs.valueInfoProto("y", DType.FLOAT32, new int[] {1, 4}))
                .build();
        return model(graph);
    }

    /** {@code y = Relu(ghost)} where nothing produces {@code ghost}. */
    public static byte[] danglingInput() {
        GraphProto graph = GraphProto.newBuilder()
                .setName("dangling")
                .addNode(node("Relu", "relu", List.of("ghost"), "y"))
                .addInput(OnnxGraphs.valueInfoProto("x", DType.FLOAT32, new int[] {1, 4}))
                .addOutput(ValueInfoProto.newBuilder().setName("y"))
                .build();
        return model(graph);
    }

    /** {@code y = NoSuchOp(x)}: an operator no runtime knows. */
    public static byte[] unknownOp() {
        GraphProto graph = GraphProto.newBuilder()
                .setName("unknown")
                .addNode(node("NoSuchOp", "mystery", List.of("x"), "y"))
                .addInput(OnnxGraphs.valueInfoProto("x", DType.FLOAT32, new int[] {1, 4}))
                .addOutput(OnnxGraphs.valueInfoProto("y", DType.FLOAT32, new int[] {1, 4}))
                .build();
        return model(graph);
    }

    private static NodeProto node(String op, String name, List<String> inputs, String output) {
        return NodeProto.newBuilder()
                .setOpType(op)
                .setName(name)
                .addAllInput(inputs)
                .addOutput(output)
                .build();
    }

    private static byte[] model(GraphProto graph) {
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(graph)
                .build()
                .toByteArray();
    }
}
