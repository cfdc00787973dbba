package dev.layerprobe.agent.backend;

import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.tensor.DType;

/** ONNX models small enough to write in a test. */
public final class TinyModels {
    private TinyModels() {
    }

    /**
     * A chain of {@code layers} elementwise float layers (Sigmoid and Tanh in turn, which no
     * compiler pass fuses) on an input {@code x} of shape 1 x channels x size x size: each layer
     * is its own dump of {@code channels * size * size * 4} bytes.
     */
    public static byte[] chain(int layers, int channels, int size) {
        int[] shape = {1, channels, size, size};
        GraphProto.Builder graph = GraphProto.newBuilder().setName("chain")
                .addInput(OnnxGraphs.valueInfoProto("x", DType.FLOAT32, shape));
        String prev = "x";
        for (int i = 0; i < layers; i++) {
            String out = i == layers - 1 ? "y" : "t" + i;
            graph.addNode(NodeProto.newBuilder().setName("n" + i).setOpType(i % 2 == 0 ? "Sigmoid" : "Tanh")
                    .addInput(prev).addOutput(out));
            prev = out;
        }
        graph.addOutput(OnnxGraphs.valueInfoProto("y", DType.FLOAT32, shape));
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(graph).build().toByteArray();
    }

    /** {@code y = Relu(x)}, x a float 1x4 named {@code x}. */
    public static byte[] relu() {
        GraphProto graph = GraphProto.newBuilder().setName("tiny")
                .addNode(NodeProto.newBuilder().setName("relu").setOpType("Relu").addInput("x").addOutput("y"))
                .addInput(OnnxGraphs.valueInfoProto("x", DType.FLOAT32, new int[] {1, 4}))
                .addOutput(OnnxGraphs.valueInfoProto("y", DType.FLOAT32, new int[] {1, 4}))
                .build();
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(graph).build().toByteArray();
    }
}
