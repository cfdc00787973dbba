package dev.layerprobe.host.dataset;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.onnx.Onnx.AttributeProto;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.onnx.Onnx.TensorShapeProto;
import dev.layerprobe.onnx.Onnx.TypeProto;
import dev.layerprobe.onnx.Onnx.ValueInfoProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * A small image classifier built in code, and seeded random inputs for it: x[1,3,32,32] -> Conv
 * 3->8 (3x3, pad 1) -> Relu -> GlobalAveragePool -> Flatten -> Gemm 8->10 -> y[1,10].
 */
public final class SmallClassifier {
    public static final int CLASSES = 10;
    private static final int CHANNELS = 8;

    private SmallClassifier() {}

    public static ModelProto model(long seed) {
        Random r = new Random(seed);
        GraphProto g = GraphProto.newBuilder()
                .setName("small_classifier")
                .addInput(value("x", 1, 3, 32, 32))
                .addOutput(value("y", 1, CLASSES))
                .addInitializer(weights("w", r, 0.3f, CHANNELS, 3, 3, 3))
                .addInitializer(weights("b", r, 0.1f, CHANNELS))
                .addInitializer(weights("fw", r, 1f, CLASSES, CHANNELS))
                .addInitializer(weights("fb", r, 0.1f, CLASSES))
                .addNode(NodeProto.newBuilder()
                        .setName("conv")
                        .setOpType("Conv")
                        .addInput("x")
                        .addInput("w")
                        .addInput("b")
                        .addOutput("c")
                        .addAttribute(ints("pads", 1, 1, 1, 1))
                        .addAttribute(ints("kernel_shape", 3, 3)))
                .addNode(NodeProto.newBuilder()
                        .setName("relu")
                        .setOpType("Relu")
                        .addInput("c")
                        .addOutput("r"))
                .addNode(NodeProto.newBuilder()
                        .setName("pool")
                        .setOpType("GlobalAveragePool")
                        .addInput("r")
                        .addOutput("p"))
                .addNode(NodeProto.newBuilder()
                        .setName("flat")
                        .setOpType("Flatten")
                        .addInput("p")
                        .addOutput("f"))
                .addNode(NodeProto.newBuilder()
                        .setName("fc")
                        .setOpType("Gemm")
                        .addInput("f")
                        .addInput("fw")
                        .addInput("fb")
                        .addOutput("y")
                        .addAttribute(AttributeProto.newBuilder()
                                .setName("transB")
                                .setType(AttributeProto.AttributeType.INT)
                                .setI(1)))
                .build();
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(g)
                .build();
    }

    /** Writes the model to {@code file}. */
    public static Path write(Path file, long seed) throws IOException {
        Files.write(file, model(seed).toByteArray());
        return file;
    }

    /** Writes {@code n} seeded 1x3x32x32 float inputs, uniform in [-1, 1), as {@code in_00000.npy}, ... into {@code dir}. */
    public static Path inputs(Path dir, int n, long seed) throws IOException {
        Files.createDirectories(dir);
        Random r = new Random(seed);
        int[] shape = {1, 3, 32, 32};
        byte[] header = Npy.header(DType.FLOAT32, shape);
        float[] v = new float[3 * 32 * 32];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < v.length; j++) {
                v[j] = 2 * r.nextFloat() - 1;
            }
            // One write per file: thousands of inputs are made in seconds.
            ByteBuffer b = ByteBuffer.allocate(header.length + 4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.put(header).asFloatBuffer().put(v);
            Files.write(dir.resolve(String.format(java.util.Locale.ROOT, "in_%05d.npy", i)), b.array());
        }
        return dir;
    }

    private static ValueInfoProto value(String name, int... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (int d : dims) {
            s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder()
                .setName(name)
                .setType(TypeProto.newBuilder()
                        .setTensorType(TypeProto.Tensor.newBuilder()
                                .setElemType(TensorProto.DataType.FLOAT_VALUE)
                                .setShape(s)))
                .build();
    }

    private static TensorProto weights(String name, Random r, float scale, int... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
        int n = 1;
        for (int d : dims) {
            t.addDims(d);
            n *= d;
        }
        for (int i = 0; i < n; i++) {
            t.addFloatData(scale * (float) r.nextGaussian());
        }
        return t.build();
    }

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) {
            a.addInts(x);
        }
        return a.build();
    }
}
