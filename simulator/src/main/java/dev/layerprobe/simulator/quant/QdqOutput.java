package dev.layerprobe.simulator.quant;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.Subgraphs;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A graph {@link QdqWriter} writes, during one write: its nodes and constants, and the
 * QuantizeLinear/DequantizeLinear and Cast nodes it adds, named after the tensor they belong to.
 * The main graph and the If branches written inside it ({@link #branch}) share every name of the
 * file (the source's names, subgraphs included, are taken from the start, so nothing new repeats
 * one); a branch reads the constants of the graphs around it and holds those it adds. Conventions
 * (domains, names, fp16 marks) are stated in {@link QdqWriter}'s class comment. One main instance
 * per write, used by one thread.
 */
final class QdqOutput {
    static final String MS_DOMAIN = "com.microsoft";
    static final long ONNX_FLOAT = DType.FLOAT32.onnxCode();
    private static final long ONNX_FLOAT16 = DType.FLOAT16.onnxCode();

    final List<Node> nodes = new ArrayList<>();
    final Map<String, Tensor> constants;
    final Map<String, String> fp16Constants = new HashMap<>();
    final Map<String, List<QdqWeights.Dequantized>> dequantized = new HashMap<>();
    final Set<String> tensorNames;
    final Set<String> sourceNodeNames;
    final Set<String> nodeNames;
    final int opset;
    /** The graph this branch is written in, or null for the main graph. */
    private final QdqOutput parent;

    private boolean msDomain;

    QdqOutput(Graph g) {
        this.constants = new LinkedHashMap<>(g.constants());
        this.opset = g.opset();
        this.parent = null;
        this.tensorNames = new HashSet<>();
        this.sourceNodeNames = new HashSet<>();
        this.nodeNames = new HashSet<>();
        takeNames(g);
    }

    private QdqOutput(QdqOutput parent, Graph branch) {
        this.constants = new LinkedHashMap<>(branch.constants());
        this.opset = parent.opset;
        this.parent = parent;
        this.tensorNames = parent.tensorNames;
        this.sourceNodeNames = parent.sourceNodeNames;
        this.nodeNames = parent.nodeNames;
    }

    /** The output of an If branch of this graph: its own nodes and constants, the file's names. */
    QdqOutput branch(Graph branch) {
        return new QdqOutput(this, branch);
    }

    private void takeNames(Graph g) {
        tensorNames.addAll(g.constants().keySet());
        tensorNames.addAll(g.outputs());
        g.inputs().forEach(v -> tensorNames.add(v.name()));
        for (Node n : g.nodes()) {
            tensorNames.addAll(n.inputs());
            tensorNames.addAll(n.outputs());
            sourceNodeNames.add(n.name());
            Subgraphs.of(n).forEach(this::takeNames);
        }
    }

    /** A constant this graph holds or reads from a graph around it, or null. */
    Tensor constant(String name) {
        Tensor t = constants.get(name);
        return t != null || parent == null ? t : parent.constant(name);
    }

    /** Whether any graph of the file uses the {@code com.microsoft} Q/DQ. */
    boolean msDomain() {
        return parent != null ? parent.msDomain() : msDomain;
    }

    /** A new tensor name: base, or base with the first free suffix. */
    String tensor(String base) {
        return unique(base, tensorNames::add);
    }

    /** A new node name that no node of the source graph or written so far has. */
    String node(String base) {
        return unique(base, n -> !sourceNodeNames.contains(n) && nodeNames.add(n));
    }

    /** The name of a source node's copy: its own, unless an earlier node took it. */
    String sourceNode(String name) {
        return nodeNames.add(name) ? name : node(name);
    }

    private static String unique(String base, java.util.function.Predicate<String> claim) {
        String name = base;
        for (int i = 1; !claim.test(name); i++) {
            name = base + "_" + i;
        }
        return name;
    }

    /**
     * The domain of a QuantizeLinear/DequantizeLinear of this type (see QdqWriter's class comment):
     * ONNX's where the opset has the form, else {@code com.microsoft}.
     */
    String qdqDomain(DType type, boolean perAxis) {
        if (type == DType.INT16 || (perAxis && opset < 13)) {
            QdqOutput main = this;
            while (main.parent != null) {
                main = main.parent;
            }
            main.msDomain = true;
            return MS_DOMAIN;
        }
        return "";
    }

    /** A float constant as a FLOAT16 initializer behind Cast(to=FLOAT); one per constant. */
    String fp16Constant(String name, Tensor c) {
        return fp16Constants.computeIfAbsent(name, k -> {
            String half = tensor(name + "_float16");
            String back = tensor(half + "_Cast_Output");
            // Stored as FLOAT16: writing the initializer rounds to binary16.
            constants.put(
                    half, Tensor.ofFloats(DType.FLOAT16, c.shape(), c.toFloat().floats()));
            nodes.add(cast(node(half + "_Cast"), half, back, ONNX_FLOAT));
            return back;
        });
    }

    /** in -> Cast(to=FLOAT16) -> Cast(to=FLOAT) -> result. */
    String addCastPair(String in, String result) {
        String half = tensor(in + "_ToFloat16");
        nodes.add(cast(node(in + "_CastToFloat16"), in, half, ONNX_FLOAT16));
        nodes.add(cast(node(in + "_CastFromFloat16"), half, result, ONNX_FLOAT));
        return result;
    }

    static Node cast(String name, String in, String outName, long to) {
        return new Node(name, "Cast", "", List.of(in), List.of(outName), Map.of("to", Attribute.ofInt(to)));
    }

    /** in -> QuantizeLinear -> DequantizeLinear -> result, per tensor; other names derive from stem. */
    void addQdq(String stem, String in, String result, QuantParams q) {
        String scale = tensor(stem + "_scale");
        String zp = tensor(stem + "_zero_point");
        String mid = tensor(stem + "_QuantizeLinear_Output");
        constants.put(scale, Tensor.scalar(q.scale(0)));
        constants.put(zp, Tensor.ofLongs(q.type(), new int[0], new long[] {q.zeroPoint(0)}));
        String domain = qdqDomain(q.type(), false);
        nodes.add(new Node(
                node(stem + "_QuantizeLinear"),
                "QuantizeLinear",
                domain,
                List.of(in, scale, zp),
                List.of(mid),
                Map.of()));
        nodes.add(new Node(
                node(stem + "_DequantizeLinear"),
                "DequantizeLinear",
                domain,
                List.of(mid, scale, zp),
                List.of(result),
                Map.of()));
    }

    void addDq(String codes, String result, QuantParams q) {
        String scale = tensor(codes + "_scale");
        String zp = tensor(codes + "_zero_point");
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        if (q.isPerTensor()) {
            constants.put(scale, Tensor.scalar(q.scale(0)));
            constants.put(zp, Tensor.ofLongs(q.type(), new int[0], new long[] {q.zeroPoint(0)}));
        } else {
            constants.put(scale, Tensor.ofFloats(new int[] {q.scale().length}, q.scale()));
            constants.put(zp, Tensor.ofLongs(q.type(), new int[] {q.scale().length}, q.zeroPoint()));
            attrs.put("axis", Attribute.ofInt(q.axis()));
        }
        nodes.add(new Node(
                node(codes + "_DequantizeLinear"),
                "DequantizeLinear",
                qdqDomain(q.type(), !q.isPerTensor()),
                List.of(codes, scale, zp),
                List.of(result),
                attrs));
    }
}
