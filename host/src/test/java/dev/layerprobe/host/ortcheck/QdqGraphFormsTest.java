package dev.layerprobe.host.ortcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.OrtInt8;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.onnx.TensorProtos;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Graph forms a QDQ writer gets wrong easily, built here as float models, quantized (minmax, int8
 * and uint8 activations, per-channel weights) and checked three ways: the file passes
 * {@link OnnxChecker}, ONNX Runtime loads it, and the simulator in {@code requant: float} mode gives
 * ONNX Runtime's final codes (at least 99.9% equal, at most 1 LSB apart; measured: all equal but 3
 * (int8) and 5 (uint8) of 9216 in the fan-out, all in its last Add, whose inputs agree code for
 * code: ORT's QLinearAdd rounds a few near-ties its own way for these scales, see
 * {@code OrtOpCrossCheckTest}). Each form also states what the file must hold:
 * <ul>
 *   <li>{@link Form#SHARED_WEIGHTS}: one module applied twice (a weight and bias read by two Convs
 *       whose inputs have different scales): one weight DequantizeLinear for both, two int32 bias
 *       copies, each at its Conv's {@code s_x * s_w};</li>
 *   <li>{@link Form#SHARED_ZERO_BIAS}: one all-zero bias deduplicated by the exporter and read by two
 *       Convs: two bias DequantizeLinear with different scales;</li>
 *   <li>{@link Form#IDENTITY_INITIALIZERS}: weights and bias reaching a Conv through Identity
 *       chains: no Identity left, the chains' ends quantized like the initializer itself;</li>
 *   <li>{@link Form#FAN_OUT}: one tensor read by four layers: one QuantizeLinear/DequantizeLinear
 *       pair for all;</li>
 *   <li>{@link Form#PADDLE_AFFINE_OPSET11}: Conv → per-channel Mul → per-channel Add (Paddle2ONNX's
 *       BatchNormalization) at opset 11: the folded Convs' weights per channel, in
 *       {@code com.microsoft} DequantizeLinear with {@code axis};</li>
 *   <li>{@link Form#UPSAMPLE_SLICE_OPSET9}: opset 9, which has no QuantizeLinear: the file is opset
 *       11, Upsample written as Resize, Slice with its bounds and Clip with its limits as inputs;</li>
 *   <li>{@link Form#DATA_MOVEMENT}: Pad, Gather, Tile and Expand between two Convs: each output
 *       quantized with its input's scale and zero point, so the moves are exact on both sides.</li>
 * </ul>
 */
class QdqGraphFormsTest {
    private static final int SAMPLES = 4;
    private static final int SIZE = 12;

    enum Form {
        SHARED_WEIGHTS,
        SHARED_ZERO_BIAS,
        IDENTITY_INITIALIZERS,
        FAN_OUT,
        PADDLE_AFFINE_OPSET11,
        UPSAMPLE_SLICE_OPSET9,
        DATA_MOVEMENT
    }

    /** The ops of {@link Form#DATA_MOVEMENT}, in graph order. */
    private static final List<String> MOVES = List.of("Pad", "Gather", "Tile", "Expand");

    private static Tensor weights(Random r, int oc, int ic, int k) {
        float bound = (float) (1.5 / Math.sqrt(ic * k * k));
        return OrtCheck.random(r, new int[] {oc, ic, k, k}, -bound, bound);
    }

    private static Node conv(String name, String x, String w, String b, String y, int k) {
        List<String> in = b == null ? List.of(x, w) : List.of(x, w, b);
        long p = k / 2;
        return new Node(
                name,
                "Conv",
                "",
                in,
                List.of(y),
                Map.of("pads", Attribute.ofInts(p, p, p, p), "kernel_shape", Attribute.ofInts(k, k)));
    }

    private static Node node(String op, String name, List<String> in, String out) {
        return new Node(name, op, "", in, List.of(out), Map.of());
    }

    static Graph build(Form form, Random r) {
        int c = 16;
        Map<String, Tensor> k = new HashMap<>();
        List<Node> n = new ArrayList<>();
        int opset = 13;
        int[] inShape = {1, c, SIZE, SIZE};
        switch (form) {
            case SHARED_WEIGHTS -> {
                k.put("w", weights(r, c, c, 3));
                k.put("b", OrtCheck.random(r, new int[] {c}, -0.3f, 0.3f));
                n.add(conv("c1", "x", "w", "b", "t", 3));
                n.add(node("Relu", "relu", List.of("t"), "u"));
                n.add(conv("c2", "u", "w", "b", "y", 3));
            }
            case SHARED_ZERO_BIAS -> {
                k.put("w1", weights(r, c, c, 3));
                k.put("w2", weights(r, c, c, 1));
                k.put("zeros", Tensor.zeros(new int[] {c}));
                n.add(conv("c1", "x", "w1", "zeros", "t", 3));
                n.add(conv("c2", "t", "w2", "zeros", "y", 1));
            }
            case IDENTITY_INITIALIZERS -> {
                k.put("w", weights(r, c, c, 3));
                k.put("b", OrtCheck.random(r, new int[] {c}, -0.3f, 0.3f));
                n.add(node("Identity", "id_w1", List.of("w"), "w_1"));
                n.add(node("Identity", "id_w2", List.of("w_1"), "w_2"));
                n.add(node("Identity", "id_b1", List.of("b"), "b_1"));
                n.add(conv("c1", "x", "w", "b", "t", 3));
                n.add(conv("c2", "t", "w_2", "b_1", "y", 3));
            }
            case FAN_OUT -> {
                k.put("w0", weights(r, c, c, 3));
                for (String w : List.of("w1", "w2", "w3")) {
                    k.put(w, weights(r, c, c, 1));
                    k.put("b" + w.substring(1), OrtCheck.random(r, new int[] {c}, -0.3f, 0.3f));
                }
                n.add(conv("c0", "x", "w0", null, "t", 3));
                n.add(conv("c1", "t", "w1", "b1", "a", 1));
                n.add(conv("c2", "t", "w2", "b2", "b", 1));
                n.add(conv("c3", "t", "w3", "b3", "c", 1));
                n.add(node("Add", "s1", List.of("a", "t"), "s"));
                n.add(node("Add", "s2", List.of("b", "c"), "v"));
                n.add(node("Add", "out", List.of("s", "v"), "y"));
            }
            case PADDLE_AFFINE_OPSET11 -> {
                opset = 11;
                k.put("w1", weights(r, c, c, 3));
                k.put("w2", weights(r, c, c, 1));
                for (String s : List.of("1", "2")) {
                    // BatchNormalization as Paddle2ONNX writes it for PP-OCRv3/v4: scales that spread
                    // the channels over 30x, which per-tensor weights would lose.
                    float[] scale = new float[c];
                    for (int i = 0; i < c; i++) {
                        scale[i] = (float) Math.pow(30, r.nextFloat()) * 0.05f;
                    }
                    k.put("scale" + s, Tensor.ofFloats(new int[] {1, c, 1, 1}, scale));
                    k.put("shift" + s, OrtCheck.random(r, new int[] {1, c, 1, 1}, -0.5f, 0.5f));
                }
                n.add(conv("c1", "x", "w1", null, "t1", 3));
                n.add(node("Mul", "m1", List.of("t1", "scale1"), "t2"));
                n.add(node("Add", "a1", List.of("t2", "shift1"), "t3"));
                n.add(node("Relu", "r1", List.of("t3"), "t4"));
                n.add(conv("c2", "t4", "w2", null, "t5", 1));
                n.add(node("Mul", "m2", List.of("t5", "scale2"), "t6"));
                n.add(node("Add", "a2", List.of("t6", "shift2"), "y"));
            }
            case UPSAMPLE_SLICE_OPSET9 -> {
                opset = 9;
                k.put("w1", weights(r, c, c, 3));
                k.put("w2", weights(r, c, c, 3));
                k.put("b2", OrtCheck.random(r, new int[] {c}, -0.3f, 0.3f));
                k.put("scales", Tensor.ofFloats(new int[] {4}, new float[] {1, 1, 2, 2}));
                n.add(conv("c1", "x", "w1", null, "t", 3));
                n.add(new Node(
                        "up",
                        "Upsample",
                        "",
                        List.of("t", "scales"),
                        List.of("u"),
                        Map.of("mode", Attribute.ofString("nearest"))));
                n.add(new Node(
                        "crop",
                        "Slice",
                        "",
                        List.of("u"),
                        List.of("v"),
                        Map.of(
                                "starts",
                                Attribute.ofInts(1, 2),
                                "ends",
                                Attribute.ofInts(SIZE * 2 - 1, SIZE * 2 - 3),
                                "axes",
                                Attribute.ofInts(2, 3))));
                n.add(new Node(
                        "relu6",
                        "Clip",
                        "",
                        List.of("v"),
                        List.of("v6"),
                        Map.of("min", Attribute.ofFloat(0f), "max", Attribute.ofFloat(6f))));
                n.add(conv("c2", "v6", "w2", "b2", "y", 3));
            }
            case DATA_MOVEMENT -> {
                k.put("w1", weights(r, c, c, 3));
                k.put("w2", weights(r, c, c, 3));
                k.put("pads", Tensor.ofLongs(DType.INT64, new int[] {8}, new long[] {0, 0, 1, 1, 0, 0, 1, 1}));
                k.put("channels", Tensor.ofLongs(DType.INT64, new int[] {c / 2}, new long[] {0, 2, 4, 6, 8, 10, 12, 14
                }));
                k.put("repeats", Tensor.ofLongs(DType.INT64, new int[] {4}, new long[] {1, 2, 1, 1}));
                k.put("batch", Tensor.ofLongs(DType.INT64, new int[] {4}, new long[] {2, 1, 1, 1}));
                n.add(conv("c1", "x", "w1", null, "t", 3));
                n.add(node("Pad", "pad", List.of("t", "pads"), "p"));
                n.add(new Node(
                        "gather",
                        "Gather",
                        "",
                        List.of("p", "channels"),
                        List.of("g"),
                        Map.of("axis", Attribute.ofInt(1))));
                n.add(node("Tile", "tile", List.of("g", "repeats"), "tl"));
                n.add(node("Expand", "expand", List.of("tl", "batch"), "e"));
                n.add(conv("c2", "e", "w2", null, "y", 3));
            }
            default -> throw new AssertionError(form);
        }
        return new Graph(
                form.name().toLowerCase(java.util.Locale.ROOT),
                n,
                k,
                List.of(new ValueInfo("x", DType.FLOAT32, inShape)),
                List.of("y"),
                Map.of("", opset));
    }

    /** DequantizeLinear nodes of the file whose input is a quantized copy of this float initializer. */
    private static List<NodeProto> dequantizersOf(ModelProto m, String initializer) {
        return m.getGraph().getNodeList().stream()
                .filter(d -> d.getOpType().equals("DequantizeLinear")
                        && d.getInput(0).startsWith(initializer + "_quantized"))
                .toList();
    }

    private static List<NodeProto> readers(ModelProto m, String tensor) {
        return m.getGraph().getNodeList().stream()
                .filter(x -> x.getInputList().contains(tensor))
                .toList();
    }

    private static float[] scales(ModelProto m, NodeProto dq) throws Exception {
        for (TensorProto t : m.getGraph().getInitializerList()) {
            if (t.getName().equals(dq.getInput(1))) {
                return TensorProtos.toTensor(t, Path.of(".")).toFloat().floats();
            }
        }
        throw new AssertionError("no scale for " + dq.getName());
    }

    private static void checkForm(Form form, ModelProto m) throws Exception {
        switch (form) {
            case SHARED_WEIGHTS -> {
                List<NodeProto> w = dequantizersOf(m, "w");
                assertEquals(1, w.size(), "equal weight parameters share one DequantizeLinear");
                assertEquals(2, readers(m, w.get(0).getOutput(0)).size(), "both Convs read it");
                List<NodeProto> b = dequantizersOf(m, "b");
                assertEquals(2, b.size(), "one int32 bias per input scale");
                assertNotEquals(scales(m, b.get(0))[0], scales(m, b.get(1))[0]);
            }
            case SHARED_ZERO_BIAS -> {
                List<NodeProto> z = dequantizersOf(m, "zeros");
                assertEquals(2, z.size(), "the zero bias at each Conv's own scale");
                assertNotEquals(scales(m, z.get(0))[0], scales(m, z.get(1))[0]);
            }
            case IDENTITY_INITIALIZERS -> {
                assertTrue(m.getGraph().getNodeList().stream()
                        .noneMatch(x -> x.getOpType().equals("Identity")));
                assertEquals(1, dequantizersOf(m, "w").size(), "w and its Identity chain are one weight");
                assertEquals(2, dequantizersOf(m, "b").size(), "b at each Conv's input scale");
            }
            case FAN_OUT -> {
                long q = m.getGraph().getNodeList().stream()
                        .filter(x -> x.getOpType().equals("QuantizeLinear")
                                && x.getInput(0).equals("t"))
                        .count();
                assertEquals(1, q, "one QuantizeLinear for the four readers of t");
            }
            case PADDLE_AFFINE_OPSET11 -> {
                List<NodeProto> convs = m.getGraph().getNodeList().stream()
                        .filter(x -> x.getOpType().equals("Conv"))
                        .toList();
                assertEquals(2, convs.size(), "Mul and Add folded into the Convs");
                for (NodeProto conv : convs) {
                    NodeProto dq = m.getGraph().getNodeList().stream()
                            .filter(x -> x.getOutputList().contains(conv.getInput(1)))
                            .findFirst()
                            .orElseThrow();
                    assertEquals("com.microsoft", dq.getDomain(), dq.getName());
                    assertEquals(16, scales(m, dq).length, dq.getName() + " per channel");
                }
            }
            case UPSAMPLE_SLICE_OPSET9 -> {
                assertEquals(11, dev.layerprobe.host.quantize.Quantizer.onnxOpset(m));
                Set<String> ops = m.getGraph().getNodeList().stream()
                        .map(NodeProto::getOpType)
                        .collect(Collectors.toCollection(TreeSet::new));
                assertTrue(ops.contains("Resize") && !ops.contains("Upsample"), ops.toString());
                NodeProto slice = m.getGraph().getNodeList().stream()
                        .filter(x -> x.getOpType().equals("Slice"))
                        .findFirst()
                        .orElseThrow();
                assertEquals(4, slice.getInputCount(), "data, starts, ends, axes");
            }
            case DATA_MOVEMENT -> {
                for (String op : MOVES) {
                    NodeProto move = m.getGraph().getNodeList().stream()
                            .filter(x -> x.getOpType().equals(op))
                            .findFirst()
                            .orElseThrow();
                    NodeProto in = producer(m, move.getInput(0));
                    NodeProto out = readers(m, move.getOutput(0)).get(0);
                    assertEquals("DequantizeLinear", in.getOpType(), op);
                    assertEquals("QuantizeLinear", out.getOpType(), op);
                    assertEquals(scales(m, in)[0], scales(m, out)[0], op + " keeps its input's scale");
                }
            }
            default -> throw new AssertionError(form);
        }
    }

    private static NodeProto producer(ModelProto m, String tensor) {
        return m.getGraph().getNodeList().stream()
                .filter(x -> x.getOutputList().contains(tensor))
                .findFirst()
                .orElseThrow();
    }

    @ParameterizedTest
    @EnumSource(Form.class)
    @SuppressWarnings("EnumOrdinal") // the form's position only varies the seed
    void quantizedFormIsValidAndAgreesWithOnnxRuntime(Form form) throws Exception {
        Map<DType, ModelProto> files = new java.util.LinkedHashMap<>();
        Random r = new Random(17 + form.ordinal());
        Graph g = build(form, r);
        Map<String, int[]> input = Map.of("x", g.inputs().get(0).shape());
        NpuProgram fp = Simulator.compile(OnnxGraphs.toModel(g, "forms", Map.of()), g.name(), CompileOptions.DEFAULT);
        List<Map<String, Tensor>> calib = OrtCheck.samples(r, input, SAMPLES, -1f, 2f);
        for (DType activations : List.of(DType.INT8, DType.UINT8)) {
            ModelProto qdq = OrtCheck.qdq(fp, calib, activations);
            OnnxChecker.assertValid(qdq, form + " " + activations);
            checkForm(form, qdq);
            files.put(activations, qdq);
        }
        OrtInt8.assumeExactKernels();
        List<Map<String, Tensor>> eval = OrtCheck.samples(r, input, SAMPLES, -1f, 2f);
        for (Map.Entry<DType, ModelProto> f : files.entrySet()) {
            OrtCheck.Agreement a = OrtCheck.compare(f.getValue(), eval);
            System.out.printf("%s %s: %s, ORT ops %s%n", form, f.getKey(), a, a.ortOps());
            assertTrue(a.fraction() >= 0.999 && a.maxDiff() <= 1, form + " " + f.getKey() + ": " + a);
        }
    }
}
