package dev.layerprobe.host.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.onnx.Onnx.TensorShapeProto;
import dev.layerprobe.onnx.Onnx.TypeProto;
import dev.layerprobe.onnx.Onnx.ValueInfoProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class GoldenRunnerTest {
    /** x[1,4] -> Relu -> r -> Add(c) -> y (graph output); Shape(x) -> s (int64, not a float layer). */
    static ModelProto tinyModel() {
        TypeProto.Tensor.Builder tt = TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.FLOAT_VALUE)
                .setShape(TensorShapeProto.newBuilder()
                        .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(1))
                        .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(4)));
        TypeProto type = TypeProto.newBuilder().setTensorType(tt).build();
        GraphProto g = GraphProto.newBuilder()
                .setName("tiny")
                .addInput(ValueInfoProto.newBuilder().setName("x").setType(type))
                .addOutput(ValueInfoProto.newBuilder().setName("y").setType(type))
                .addInitializer(TensorProto.newBuilder()
                        .setName("c")
                        .setDataType(TensorProto.DataType.FLOAT_VALUE)
                        .addDims(4)
                        .addFloatData(10)
                        .addFloatData(20)
                        .addFloatData(30)
                        .addFloatData(40))
                .addNode(NodeProto.newBuilder()
                        .setName("relu")
                        .setOpType("Relu")
                        .addInput("x")
                        .addOutput("r"))
                .addNode(NodeProto.newBuilder()
                        .setName("shape")
                        .setOpType("Shape")
                        .addInput("x")
                        .addOutput("s"))
                .addNode(NodeProto.newBuilder()
                        .setName("add")
                        .setOpType("Add")
                        .addInput("r")
                        .addInput("c")
                        .addOutput("y"))
                .build();
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(g)
                .build();
    }

    @Test
    void exposesEveryIntermediateFloatTensor() throws Exception {
        try (GoldenRunner r = GoldenRunner.of(tinyModel(), "tiny")) {
            assertEquals(java.util.List.of("r", "s", "y"), r.tensorNames());
            assertArrayEquals(new long[] {1, 4}, r.inputShapes().get("x"));
            Tensor x = Tensor.ofFloats(new int[] {1, 4}, new float[] {-1, 2, -3, 4});
            Map<String, Tensor> out = r.run(Map.of("x", x));
            assertEquals(java.util.List.of("x", "r", "y"), java.util.List.copyOf(out.keySet()));
            assertArrayEquals(new float[] {0, 2, 0, 4}, out.get("r").floats());
            assertArrayEquals(new float[] {10, 22, 30, 44}, out.get("y").floats());
            assertArrayEquals(new int[] {1, 4}, out.get("y").shape());
            assertFalse(out.containsKey("s"), "int64 shape tensors are not layers");
        }
    }

    @Test
    void feedsAreChecked() throws Exception {
        try (GoldenRunner r = GoldenRunner.of(tinyModel(), "tiny")) {
            GoldenException e =
                    assertThrows(GoldenException.class, () -> r.run(Map.of("images", Tensor.zeros(new int[] {1, 4}))));
            assertEquals("unknown input 'images', expected one of [x]", e.getMessage());
            e = assertThrows(GoldenException.class, () -> r.run(Map.of()));
            assertEquals("missing input 'x', the model needs [x]", e.getMessage());
            e = assertThrows(GoldenException.class, () -> r.run(Map.of("x", Tensor.zeros(new int[] {1, 5}))));
            assertEquals("input 'x' has shape [1, 5], the model expects [1, 4]", e.getMessage());
        }
        GoldenRunner closed = GoldenRunner.of(tinyModel(), "tiny");
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.run(Map.of()));
    }

    @Test
    void brokenModelsGiveOneLineErrors() {
        ModelProto bad = tinyModel().toBuilder()
                .setGraph(tinyModel().getGraph().toBuilder()
                        .setNode(
                                0,
                                NodeProto.newBuilder()
                                        .setOpType("NoSuchOp")
                                        .addInput("x")
                                        .addOutput("r")))
                .build();
        GoldenException e = assertThrows(GoldenException.class, () -> GoldenRunner.of(bad, "bad.onnx"));
        assertTrue(e.getMessage().startsWith("ONNX Runtime cannot load bad.onnx: "), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void mobilenetExposesAllLayers() throws Exception {
        Path model = sharedDir().resolve("models/mobilenet_v2.onnx");
        Assumptions.assumeTrue(Files.exists(model), "../shared/models not found: skipped");
        try (GoldenRunner r = GoldenRunner.open(model)) {
            String input = r.inputShapes().keySet().iterator().next();
            float[] data = new float[3 * 224 * 224];
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) Math.sin(i * 0.001);
            }
            Map<String, Tensor> out = r.run(Map.of(input, Tensor.ofFloats(new int[] {1, 3, 224, 224}, data)));
            assertTrue(out.size() > 100, "only " + out.size() + " tensors");
            assertArrayEquals(new int[] {1, 1000}, out.get("logits").shape());
        }
    }

    /** {@code ../shared} from the project root: system property layerprobe.root, else walk up. */
    static Path sharedDir() {
        String root = System.getProperty("layerprobe.root");
        if (root != null && !root.isBlank()) {
            return Paths.get(root).toAbsolutePath().resolve("../shared").normalize();
        }
        for (Path p = Paths.get(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("../shared/models"))) {
                return p.resolve("../shared").normalize();
            }
        }
        return Paths.get("../shared");
    }
}
