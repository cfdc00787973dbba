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
