package dev.layerprobe.host.golden;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Three models as PyTorch's ONNX exporter ({@code torch.onnx.export}, TorchScript based) writes
 * them, built node for node in the simulator's graph model and written by
 * {@link OnnxGraphs#toModel}, for tests that need real exports where no PyTorch is at hand:
 * <ul>
 *   <li>{@link #lstmClassifier}: {@code nn.LSTM(batch_first=True)} and an {@code nn.Linear} on the
 *       last step;</li>
 *   <li>{@link #transformerEncoder}: a two-layer post-norm encoder at opset 13, where LayerNorm is
 *       spelt out and GELU is the erf form;</li>
 *   <li>{@link #gatedBranches}: a scripted {@code if x.mean() > 0} whose branches hold Conv layers
 *       (and an LSTM in one), reading the stem's output and the module weights from the outer
 *       graph.</li>
 * </ul>
 * Names follow the exporter: node {@code /scope/Op}, {@code /scope/Op_1}, ... per op type within a
 * module scope, outputs {@code <node>_output_<i>}, parameters under their module path
 * ({@code fc.weight}) and weights the exporter transposed or re-laid out as {@code onnx::Op_N}.
 * Weights are seeded-random, scaled by 1/sqrt(fan in) as {@code nn.init} does, so activations keep
 * the ranges of an untrained network. The models are fixed by their seed; inputs come from
 * {@link #input}.
 */
public final class PyTorchExports {
    /** How {@code nn.LSTM}'s zero initial states come out of the exporter. */
    public enum InitialStates {
        /** Batch from Shape/Gather, then Unsqueeze/Concat and ConstantOfShape (dynamic batch). */
        CONSTANT_OF_SHAPE,
        /** The same shape arithmetic, then Expand of a zero scalar. */
        EXPAND,
        /** Zero initializers (traced with a fixed batch and folded). */
        INITIALIZERS
    }

    public static final int LSTM_STEPS = 24;
    public static final int LSTM_FEATURES = 16;
    public static final int LSTM_HIDDEN = 32;
    public static final int TOKENS = 16;
    public static final int TOKEN_FEATURES = 24;
    public static final int D_MODEL = 32;
    public static final int HEADS = 4;
    public static final int ENCODER_LAYERS = 2;
    private static final int[] IMAGE = {1, 3, 16, 16};

    private PyTorchExports() {}

    /** The gated model's input shape, [1, 3, 16, 16]. */
    public static int[] imageShape() {
        return IMAGE.clone();
    }

    /**
     * {@code Linear(LSTM(x)[:, -1])} on input {@code input} [1, 24, 16] to {@code logits} [1, 6]:
     * Transpose to [T, B, F], LSTM (W, R, B in ONNX gate order, initial states as {@code states}
     * says), Squeeze of num_directions, Transpose back, the last step by Gather (or by Slice and
     * Squeeze with {@code slice}), and the Linear as Gemm (or as MatMul and Add with {@code matMul}).
     */
    public static ModelProto lstmClassifier(InitialStates states, boolean slice, boolean matMul) {
        Trace t = new Trace(1);
        String x = t.op("/lstm", "Transpose", Map.of("perm", Attribute.ofInts(1, 0, 2)), "input");
        String h0;
        String c0;
        int[] stateShape = {1, 1, LSTM_HIDDEN};
        if (states == InitialStates.INITIALIZERS) {
            h0 = t.lifted("LSTM", Tensor.zeros(stateShape));
            c0 = t.lifted("LSTM", Tensor.zeros(stateShape));
        } else {
            String shape = t.op("/lstm", "Shape", Map.of(), "input");
            String batch = t.op("/lstm", "Gather", Map.of("axis", Attribute.ofInt(0)), shape, t.constant("/lstm", 0L));
            String b1 = t.op("/lstm", "Unsqueeze", Map.of(), batch, t.constant("/lstm", new long[] {0}));
            String dims = t.op(
                    "/lstm",
                    "Concat",
                    Map.of("axis", Attribute.ofInt(0)),
                    t.constant("/lstm", new long[] {1}),
                    b1,
                    t.constant("/lstm", new long[] {LSTM_HIDDEN}));
            if (states == InitialStates.CONSTANT_OF_SHAPE) {
                Map<String, Attribute> zero = Map.of("value", Attribute.ofTensor(Tensor.zeros(new int[] {1})));
                h0 = t.op("/lstm", "ConstantOfShape", zero, dims);
                c0 = t.op("/lstm", "ConstantOfShape", zero, dims);
            } else {
                h0 = t.op("/lstm", "Expand", Map.of(), t.constant("/lstm", 0f), dims);
                c0 = t.op("/lstm", "Expand", Map.of(), t.constant("/lstm", 0f), dims);
            }
        }
        List<String> y = lstm(t, "/lstm", x, LSTM_FEATURES, LSTM_HIDDEN, h0, c0);
        String seq = t.op("/lstm", "Squeeze", Map.of(), y.get(0), t.constant("/lstm", new long[] {1}));
        String batchMajor = t.op("/lstm", "Transpose", Map.of("perm", Attribute.ofInts(1, 0, 2)), seq);
        String last;
        if (slice) {
            String s = t.op(
                    "",
                    "Slice",
                    Map.of(),
                    batchMajor,
                    t.constant("", new long[] {-1}),
                    t.constant("", new long[] {Long.MAX_VALUE}),
                    t.constant("", new long[] {1}),
                    t.constant("", new long[] {1}));
            last = t.op("", "Squeeze", Map.of(), s, t.constant("", new long[] {1}));
        } else {
            last = t.op("", "Gather", Map.of("axis", Attribute.ofInt(1)), batchMajor, t.constant("", -1L));
        }
        String logits = linear(t, "/fc", "fc", last, LSTM_HIDDEN, 6, !matMul);
        return t.model(
                "main_graph",
                List.of(new ValueInfo("input", DType.FLOAT32, new int[] {1, LSTM_STEPS, LSTM_FEATURES})),
                logits,
                13);
    }

    /**
     * A post-norm transformer encoder on input {@code src} [1, 16, 24] to {@code logits} [1, 5], at
     * opset 13: a Linear embedding and a learned positional Add, two layers of multi-head
     * self-attention (d=32, 4 heads; heads split by Reshape with the batch and length taken through
     * Shape/Gather/Unsqueeze/Concat, Transpose, MatMul, Div by sqrt(8), Softmax, MatMul) and a GELU
     * feed-forward (64), each with a residual Add and a LayerNorm spelt as ReduceMean, Sub, Pow,
     * ReduceMean, Add, Sqrt, Div, Mul, Add; a mean over the tokens and a Linear head (Gemm).
     */
    public static ModelProto transformerEncoder() {
        Trace t = new Trace(2);
        String x = linear(t, "/embed", "embed", "src", TOKEN_FEATURES, D_MODEL, false);
        x = t.op("", "Add", Map.of(), x, t.param("pos_embedding", t.randn(0.5, 1, TOKENS, D_MODEL)));
        for (int l = 0; l < ENCODER_LAYERS; l++) {
            String layer = "/encoder/layers." + l;
            String module = "encoder.layers." + l;
            String attn = attention(t, layer + "/self_attn", module + ".self_attn", x);
            x = layerNorm(t, layer + "/norm1", module + ".norm1", t.op(layer, "Add", Map.of(), x, attn));
            String ff = linear(t, layer + "/linear1", module + ".linear1", x, D_MODEL, 2 * D_MODEL, false);
            ff = gelu(t, layer + "/activation", ff);
            ff = linear(t, layer + "/linear2", module + ".linear2", ff, 2 * D_MODEL, D_MODEL, false);
            x = layerNorm(t, layer + "/norm2", module + ".norm2", t.op(layer, "Add", Map.of(), x, ff));
        }
        String pooled = t.op("", "ReduceMean", Map.of("axes", Attribute.ofInts(1), "keepdims", Attribute.ofInt(0)), x);
        String logits = linear(t, "/head", "head", pooled, D_MODEL, 5, true);
        return t.model(
                "main_graph",
                List.of(new ValueInfo("src", DType.FLOAT32, new int[] {1, TOKENS, TOKEN_FEATURES})),
                logits,
                13);
    }

    /**
     * A scripted gate on input {@code input} [1, 3, 16, 16] to {@code logits} [1, 4]: a stem Conv and
     * Relu, then {@code If(ReduceMean(input) > 0)}. The then branch is Conv 3x3, Relu and a residual
     * Add of the stem's output; the else branch a Conv 1x1 whose columns are gated by an LSTM over
     * them (ReduceMean over the height, Transpose, LSTM, Squeeze, Transpose, Sigmoid, Unsqueeze, Mul).
     * Both branches read the stem's output and their weights from the outer graph, as the exporter
     * lifts every parameter to the main graph. Then GlobalAveragePool, Flatten and a Linear (Gemm).
     */
    public static ModelProto gatedBranches() {
        Trace t = new Trace(3);
        String stem = t.op("/stem", "Relu", Map.of(), conv(t, t, "/stem/conv", "stem.conv", "input", 3, 8, 3));
        String mean = t.op("", "ReduceMean", Map.of("keepdims", Attribute.ofInt(0)), "input");
        String cond = t.op("", "Greater", Map.of(), mean, t.constant("", 0f));

        Trace a = t.branch();
        String y = a.op("/branch_a", "Relu", Map.of(), conv(t, a, "/branch_a/conv", "branch_a.conv", stem, 8, 8, 3));
        y = a.op("/branch_a", "Add", Map.of(), y, stem);
        Graph then = a.graph("then_branch", y);

        Trace b = t.branch();
        String c = conv(t, b, "/branch_b/conv", "branch_b.conv", stem, 8, 8, 1);
        String cols =
                b.op("/branch_b", "ReduceMean", Map.of("axes", Attribute.ofInts(2), "keepdims", Attribute.ofInt(0)), c);
        String seq = b.op("/branch_b", "Transpose", Map.of("perm", Attribute.ofInts(2, 0, 1)), cols);
        List<String> lstm = lstm(b, t, "/branch_b/lstm", seq, 8, 8, "", "");
        String h =
                b.op("/branch_b/lstm", "Squeeze", Map.of(), lstm.get(0), b.constant("/branch_b/lstm", new long[] {1}));
        h = b.op("/branch_b", "Transpose", Map.of("perm", Attribute.ofInts(1, 2, 0)), h);
        String gate = b.op("/branch_b", "Sigmoid", Map.of(), h);
        gate = b.op("/branch_b", "Unsqueeze", Map.of(), gate, b.constant("/branch_b", new long[] {2}));
        Graph otherwise = b.graph("else_branch", b.op("/branch_b", "Mul", Map.of(), c, gate));

        String gated = t.op(
                "",
                "If",
                Map.of("then_branch", Attribute.ofGraph(then), "else_branch", Attribute.ofGraph(otherwise)),
                cond);
        String pooled = t.op("/pool", "GlobalAveragePool", Map.of(), gated);
        String flat = t.op("", "Flatten", Map.of("axis", Attribute.ofInt(1)), pooled);
        String logits = linear(t, "/head", "head", flat, 8, 4, true);
        return t.model("main_graph", List.of(new ValueInfo("input", DType.FLOAT32, IMAGE)), logits, 13);
    }

    /**
     * A seeded input of the given shape: normal values of deviation 1 and mean {@code 0.3 * sign},
     * negated if need be so that their sum has the sign of {@code sign} (for the gated model, +1
     * takes the then branch and -1 the else branch).
     */
    public static Tensor input(int[] shape, long seed, float sign) {
        Random r = new Random(seed);
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() + 0.3 * sign);
            sum += v[i];
        }
        if (Math.signum(sum) != Math.signum(sign)) {
            for (int i = 0; i < n; i++) {
                v[i] = -v[i];
            }
        }
        return Tensor.ofFloats(shape, v);
    }

    /** An nn.Linear: Gemm (transB) on a 2-D input, else MatMul by the transposed weight and Add of the bias. */
    private static String linear(Trace t, String scope, String module, String x, int in, int out, boolean gemm) {
        double bound = 1 / Math.sqrt(in);
        if (gemm) {
            return t.op(
                    scope,
                    "Gemm",
                    Map.of("alpha", Attribute.ofFloat(1f), "beta", Attribute.ofFloat(1f), "transB", Attribute.ofInt(1)),
                    x,
                    t.param(module + ".weight", t.uniform(bound, out, in)),
                    t.param(module + ".bias", t.uniform(bound, out)));
        }
        String product = t.op(scope, "MatMul", Map.of(), x, t.lifted("MatMul", t.uniform(bound, in, out)));
        return t.op(scope, "Add", Map.of(), t.param(module + ".bias", t.uniform(bound, out)), product);
    }

    /** An nn.Conv2d with padding k/2; its node goes to {@code into}, its parameters to the main graph. */
    private static String conv(Trace main, Trace into, String scope, String module, String x, int in, int out, int k) {
        double bound = 1 / Math.sqrt(in * k * k);
        return into.op(
                scope,
                "Conv",
                Map.of(
                        "dilations", Attribute.ofInts(1, 1),
                        "group", Attribute.ofInt(1),
                        "kernel_shape", Attribute.ofInts(k, k),
                        "pads", Attribute.ofInts(k / 2, k / 2, k / 2, k / 2),
                        "strides", Attribute.ofInts(1, 1)),
                x,
                main.param(module + ".weight", main.uniform(bound, out, in, k, k)),
                main.param(module + ".bias", main.uniform(bound, out)));
    }

    private static List<String> lstm(Trace t, String scope, String x, int in, int hidden, String h0, String c0) {
        return lstm(t, t, scope, x, in, hidden, h0, c0);
    }

    /** An ONNX LSTM node as the exporter writes nn.LSTM's: weights already in ONNX gate order (i, o, f, c). */
    private static List<String> lstm(
            Trace into, Trace main, String scope, String x, int in, int hidden, String h0, String c0) {
        double bound = 1 / Math.sqrt(hidden);
        List<String> inputs = new ArrayList<>(List.of(
                x,
                main.lifted("LSTM", main.uniform(bound, 1, 4 * hidden, in)),
                main.lifted("LSTM", main.uniform(bound, 1, 4 * hidden, hidden)),
                main.lifted("LSTM", main.uniform(bound, 1, 8 * hidden))));
        if (!h0.isEmpty()) {
            inputs.addAll(List.of("", h0, c0));
        }
        return into.add(scope, "LSTM", Map.of("hidden_size", Attribute.ofInt(hidden)), inputs, 3);
    }

    /** Self-attention with separate q, k, v projections, as a hand-written module exports. */
    private static String attention(Trace t, String scope, String module, String x) {
        String q = linear(t, scope + "/q_proj", module + ".q_proj", x, D_MODEL, D_MODEL, false);
        String k = linear(t, scope + "/k_proj", module + ".k_proj", x, D_MODEL, D_MODEL, false);
        String v = linear(t, scope + "/v_proj", module + ".v_proj", x, D_MODEL, D_MODEL, false);
        String shape = t.op(scope, "Shape", Map.of(), x);
        String batch = t.op(scope, "Gather", Map.of("axis", Attribute.ofInt(0)), shape, t.constant(scope, 0L));
        String length = t.op(scope, "Gather", Map.of("axis", Attribute.ofInt(0)), shape, t.constant(scope, 1L));
        String axes = t.constant(scope, new long[] {0});
        String b = t.op(scope, "Unsqueeze", Map.of(), batch, axes);
        String n = t.op(scope, "Unsqueeze", Map.of(), length, axes);
        int dh = D_MODEL / HEADS;
        String heads = t.op(
                scope,
                "Concat",
                Map.of("axis", Attribute.ofInt(0)),
                b,
                n,
                t.constant(scope, new long[] {HEADS}),
                t.constant(scope, new long[] {dh}));
        Map<String, Attribute> split = Map.of("perm", Attribute.ofInts(0, 2, 1, 3));
        String qh = t.op(scope, "Transpose", split, t.op(scope, "Reshape", Map.of(), q, heads));
        String kt = t.op(
                scope,
                "Transpose",
                Map.of("perm", Attribute.ofInts(0, 2, 3, 1)),
                t.op(scope, "Reshape", Map.of(), k, heads));
        String vh = t.op(scope, "Transpose", split, t.op(scope, "Reshape", Map.of(), v, heads));
        String scores = t.op(scope, "MatMul", Map.of(), qh, kt);
        scores = t.op(scope, "Div", Map.of(), scores, t.constant(scope, (float) Math.sqrt(dh)));
        String weights = t.op(scope, "Softmax", Map.of("axis", Attribute.ofInt(-1)), scores);
        String context = t.op(scope, "Transpose", split, t.op(scope, "MatMul", Map.of(), weights, vh));
        String merged = t.op(
                scope, "Concat", Map.of("axis", Attribute.ofInt(0)), b, n, t.constant(scope, new long[] {D_MODEL}));
        String joined = t.op(scope, "Reshape", Map.of(), context, merged);
        return linear(t, scope + "/out_proj", module + ".out_proj", joined, D_MODEL, D_MODEL, false);
    }

    /** nn.LayerNorm over the last axis as opset 13 spells it. */
    private static String layerNorm(Trace t, String scope, String module, String x) {
        Map<String, Attribute> last = Map.of("axes", Attribute.ofInts(-1), "keepdims", Attribute.ofInt(1));
        String mean = t.op(scope, "ReduceMean", last, x);
        String d = t.op(scope, "Sub", Map.of(), x, mean);
        String square = t.op(scope, "Pow", Map.of(), d, t.constant(scope, 2f));
        String var = t.op(scope, "ReduceMean", last, square);
        String std = t.op(scope, "Sqrt", Map.of(), t.op(scope, "Add", Map.of(), var, t.constant(scope, 1e-5f)));
        String normed = t.op(scope, "Div", Map.of(), d, std);
        float[] gamma = new float[D_MODEL];
        float[] beta = new float[D_MODEL];
        for (int i = 0; i < D_MODEL; i++) {
            gamma[i] = (float) (1 + 0.2 * t.random.nextGaussian());
            beta[i] = (float) (0.1 * t.random.nextGaussian());
        }
        String scaled = t.op(
                scope,
                "Mul",
                Map.of(),
                normed,
                t.param(module + ".weight", Tensor.ofFloats(new int[] {D_MODEL}, gamma)));
        return t.op(
                scope, "Add", Map.of(), scaled, t.param(module + ".bias", Tensor.ofFloats(new int[] {D_MODEL}, beta)));
    }

    /** nn.GELU() (exact): x * 0.5 * (1 + erf(x / sqrt 2)) as Div, Erf, Add, Mul, Mul. */
    private static String gelu(Trace t, String scope, String x) {
        String e = t.op(scope, "Erf", Map.of(), t.op(scope, "Div", Map.of(), x, t.constant(scope, 1.4142135f)));
        String half = t.op(scope, "Mul", Map.of(), x, t.op(scope, "Add", Map.of(), e, t.constant(scope, 1f)));
        return t.op(scope, "Mul", Map.of(), half, t.constant(scope, 0.5f));
    }

    /**
     * A graph being exported: its nodes in order and the parameters of the main graph, named as the
     * exporter names them. A branch shares the main graph's parameter numbering and random stream.
     */
    private static final class Trace {
        final List<Node> nodes = new ArrayList<>();
        final Map<String, Tensor> initializers;
        final Random random;
        private final Map<String, Integer> opCounts;
        private final int[] lifted;

        Trace(long seed) {
            this(new LinkedHashMap<>(), new Random(seed), new HashMap<>(), new int[] {100});
        }

        private Trace(Map<String, Tensor> initializers, Random random, Map<String, Integer> opCounts, int[] lifted) {
            this.initializers = initializers;
            this.random = random;
            this.opCounts = opCounts;
            this.lifted = lifted;
        }

        /** A subgraph: its own nodes; names and parameters shared with this graph, as in one export. */
        Trace branch() {
            return new Trace(initializers, random, opCounts, lifted);
        }

        /** A node {@code scope/op[_n]} with {@code outputs} outputs named {@code <node>_output_<i>}. */
        List<String> add(String scope, String op, Map<String, Attribute> attrs, List<String> inputs, int outputs) {
            String base = scope + "/" + op;
            int n = opCounts.merge(base, 1, Integer::sum) - 1;
            String name = n == 0 ? base : base + "_" + n;
            List<String> outs = new ArrayList<>();
            for (int i = 0; i < outputs; i++) {
                outs.add(name + "_output_" + i);
            }
            nodes.add(new Node(name, op, "", inputs, outs, attrs));
            return outs;
        }

        String op(String scope, String op, Map<String, Attribute> attrs, String... inputs) {
            return add(scope, op, attrs, List.of(inputs), 1).get(0);
        }

        String constant(String scope, Tensor value) {
            return op(scope, "Constant", Map.of("value", Attribute.ofTensor(value)));
        }

        String constant(String scope, long scalar) {
            return constant(scope, Tensor.ofLongs(DType.INT64, new int[0], new long[] {scalar}));
        }

        String constant(String scope, long[] values) {
            return constant(scope, Tensor.ofLongs(DType.INT64, new int[] {values.length}, values));
        }

        String constant(String scope, float scalar) {
            return constant(scope, Tensor.scalar(scalar));
        }

        /** A module parameter, named by its module path. */
        String param(String name, Tensor value) {
            initializers.put(name, value);
            return name;
        }

        /** A parameter the exporter re-laid out (transposed, gates reordered): {@code onnx::Op_N}. */
        String lifted(String op, Tensor value) {
            return param("onnx::" + op + "_" + lifted[0]++, value);
        }

        Tensor uniform(double bound, int... shape) {
            return fill(shape, () -> (float) ((2 * random.nextDouble() - 1) * bound));
        }

        Tensor randn(double sigma, int... shape) {
            return fill(shape, () -> (float) (random.nextGaussian() * sigma));
        }

        private static Tensor fill(int[] shape, java.util.function.Supplier<Float> next) {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = next.get();
            }
            return Tensor.ofFloats(shape, v);
        }

        /** This trace as a subgraph (no inputs, one output). */
        Graph graph(String name, String output) {
            Graph g = new Graph(name, nodes, Map.of(), List.of(), List.of(output), Map.of("", 13));
            g.outputInfos().put(output, new ValueInfo(output, DType.FLOAT32, null));
            return g;
        }

        ModelProto model(String name, List<ValueInfo> inputs, String output, int opset) {
            // The exporter names the graph output by the user's output name: the last node writes it.
            Node last = nodes.get(nodes.size() - 1);
            String named = "logits";
            last.outputs().set(last.outputs().indexOf(output), named);
            Graph g = new Graph(name, nodes, initializers, inputs, List.of(named), Map.of("", opset));
            return OnnxGraphs.toModel(g, "pytorch", Map.of());
        }
    }
}
