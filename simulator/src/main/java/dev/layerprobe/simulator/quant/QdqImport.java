package dev.layerprobe.simulator.quant;

import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.AttributeProto;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.Subgraphs;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the quantization out of a QDQ graph and removes its QuantizeLinear/DequantizeLinear and
 * marker Cast nodes, leaving the float graph the compiler works on plus a {@link QuantSpec}.
 *
 * <p>Recognised forms (those of ONNX Runtime's quantizer and of {@link QdqWriter}); in each, when
 * the form's last tensor is a graph output the first tensor takes its name, so layers keep the
 * model's output names, and otherwise consumers of the last tensor read the first:
 * <ul>
 *   <li>an integer activation {@code t -> QuantizeLinear -> DequantizeLinear -> t'};</li>
 *   <li>a quantized constant {@code codes -> DequantizeLinear -> w} (w becomes a float constant,
 *       its codes are kept), also with Identity nodes between codes and DequantizeLinear; each
 *       DequantizeLinear is its own constant, so layers that read different ones of one initializer
 *       (a bias at each consumer's {@code s_x * s_w}) keep their own codes;</li>
 *   <li>an fp16 constant {@code FLOAT16 initializer -> Cast(to=FLOAT) -> w} (w becomes a float
 *       constant holding the fp16 values);</li>
 *   <li>{@code t -> Cast(to=FLOAT) -> t'} where t' is quantized or feeds a Cast pair: t is the
 *       output of a layer computed in float32 (a Cast between an op and its Q also keeps ONNX
 *       Runtime from fusing the op into an integer kernel); not recognised after ops whose output
 *       is not a float ({@link #NOT_FLOAT_OUTPUT});</li>
 *   <li>a Cast pair {@code t -> Cast(to=FLOAT16) -> Cast(to=FLOAT) -> t'}: when t is the output of
 *       a layer that is neither integer-quantized nor float32, t is computed in fp16; otherwise
 *       (graph inputs, integer or float32 tensors) the pair is the conversion on the way into an fp16
 *       layer, which the simulator's fp16 layers do on entry, and is dropped.</li>
 * </ul>
 * QuantizeLinear/DequantizeLinear are read in the ONNX domain and in {@code com.microsoft}
 * (ONNX Runtime's contrib ops, which take int16 at any opset). Quantization the simulator lacks
 * (float8, int4, uint16 activations, blocked quantization, ...) is rejected with
 * {@link Code#UNSUPPORTED_QUANTIZATION} naming the node, by {@link #checkModel} before the model is
 * converted and by {@link #extract} for what only shows in the graph.
 */
public final class QdqImport {
    private static final Set<DType> ACTIVATION_TYPES = EnumSet.of(DType.INT8, DType.UINT8, DType.INT16);
    private static final Set<DType> CONSTANT_TYPES = EnumSet.of(DType.INT8, DType.UINT8, DType.INT16, DType.INT32);
    private static final Set<DType> SCALE_TYPES = EnumSet.of(DType.FLOAT32, DType.FLOAT16);
    /** Domains whose QuantizeLinear/DequantizeLinear are the quantization nodes. */
    private static final Set<String> QDQ_DOMAINS = Set.of("", "ai.onnx", "com.microsoft");
    /** Ops whose (first) output is never a float: a Cast(to=FLOAT) after them is a real conversion. */
    static final Set<String> NOT_FLOAT_OUTPUT = Set.of(
            "Shape",
            "Size",
            "NonZero",
            "ArgMax",
            "ArgMin",
            "Equal",
            "Less",
            "LessOrEqual",
            "Greater",
            "GreaterOrEqual",
            "And",
            "Or",
            "Xor",
            "Not",
            "IsNaN",
            "IsInf",
            "Cast",
            "CastLike",
            "NonMaxSuppression",
            "ConstantOfShape",
            "Range",
            "OneHot",
            "QuantizeLinear");

    private static final int ONNX_FLOAT = 1;
    private static final int ONNX_FLOAT16 = 10;

    private QdqImport() {}

    /**
     * Rejects quantization the simulator lacks, on the model as stored, before anything is converted
     * or run: QuantizeLinear/DequantizeLinear with blocked quantization ({@code block_size}), an
     * {@code output_dtype}, zero point or quantized constant of a type outside [INT8, UINT8, INT16]
     * (and INT32 for constants such as biases), or a scale that is not FLOAT/FLOAT16. Types the
     * simulator cannot even hold (float8, int4, bfloat16) would otherwise fail as unreadable tensors.
     *
     * @throws SimulatorException {@link Code#UNSUPPORTED_QUANTIZATION} naming the node and the type
     */
    public static void checkModel(ModelProto model) throws SimulatorException {
        checkGraph(model.getGraph(), new HashMap<>());
    }

    /** The checks of {@link #checkModel} on one graph and its subgraphs, which see its constants' types. */
    private static void checkGraph(GraphProto graph, Map<String, Integer> outer) throws SimulatorException {
        Map<String, Integer> types = new HashMap<>(outer);
        for (TensorProto t : graph.getInitializerList()) {
            types.put(t.getName(), t.getDataType());
        }
        for (NodeProto n : graph.getNodeList()) {
            if (n.getOpType().equals("Constant") && n.getOutputCount() == 1) {
                for (AttributeProto a : n.getAttributeList()) {
                    if (a.getName().equals("value") && a.hasT()) {
                        types.put(n.getOutput(0), a.getT().getDataType());
                    }
                }
            }
        }
        for (NodeProto n : graph.getNodeList()) {
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasG()) {
                    checkGraph(a.getG(), types);
                }
            }
            boolean q = n.getOpType().equals("QuantizeLinear");
            if (!(q || n.getOpType().equals("DequantizeLinear")) || !QDQ_DOMAINS.contains(n.getDomain())) {
                continue;
            }
            String what = n.getOpType() + " '" + n.getName() + "'";
            for (AttributeProto a : n.getAttributeList()) {
                if (a.getName().equals("block_size") && a.getI() != 0) {
                    throw new SimulatorException(
                            Code.UNSUPPORTED_QUANTIZATION,
                            what + " uses blocked quantization" + " (block_size=" + a.getI()
                                    + "); supported: per-tensor and per-axis scales");
                }
                if (a.getName().equals("output_dtype") && a.getI() != 0) {
                    requireOnnxType(what, "output_dtype", (int) a.getI(), ACTIVATION_TYPES);
                }
            }
            if (n.getInputCount() > 1 && types.containsKey(n.getInput(1))) {
                requireOnnxType(what, "scale", types.get(n.getInput(1)), SCALE_TYPES);
            }
            if (n.getInputCount() > 2 && types.containsKey(n.getInput(2))) {
                requireOnnxType(what, "zero point", types.get(n.getInput(2)), q ? ACTIVATION_TYPES : CONSTANT_TYPES);
            }
            if (!q && n.getInputCount() > 0 && types.containsKey(n.getInput(0))) {
                requireOnnxType(what, "input", types.get(n.getInput(0)), CONSTANT_TYPES);
            }
        }
    }

    private static void requireOnnxType(String what, String role, int code, Set<DType> allowed)
            throws SimulatorException {
        DType t = DType.fromOnnx(code);
        if (t == null || !allowed.contains(t)) {
            TensorProto.DataType name = TensorProto.DataType.forNumber(code);
            throw new SimulatorException(
                    Code.UNSUPPORTED_QUANTIZATION,
                    what + " has a " + role + " of type " + (name != null ? name.name() : "#" + code)
                            + "; the simulator supports " + allowed + " there");
        }
    }

    private static boolean isQdq(Node n, String op) {
        return n.opType().equals(op) && QDQ_DOMAINS.contains(n.domain());
    }

    /**
     * Extracts and removes the quantization nodes, of the graph and of its If branches (whose layers
     * the compiler quantizes like any other; Loop and Scan bodies keep theirs, run as float kernels);
     * the graph is modified in place.
     */
    public static QuantSpec extract(Graph g) throws SimulatorException {
        QuantSpec spec = new QuantSpec();
        extract(g, spec);
        return spec;
    }

    private static void extract(Graph g, QuantSpec spec) throws SimulatorException {
        foldConstantIdentities(g);
        foldFp16Constants(g);
        List<Node> dqs = new ArrayList<>();
        for (Node n : g.nodes()) {
            if ((isQdq(n, "DequantizeLinear") || isQdq(n, "QuantizeLinear")) && n.attrInt("block_size", 0) != 0) {
                throw new SimulatorException(
                        Code.UNSUPPORTED_QUANTIZATION,
                        n.opType() + " '" + n.name()
                                + "' uses blocked quantization (block_size=" + n.attrInt("block_size", 0)
                                + "); supported: per-tensor and per-axis scales");
            }
            if (isQdq(n, "DequantizeLinear")) {
                dqs.add(n);
            }
        }
        for (Node dq : dqs) {
            String x = dq.input(0);
            QuantParams q = params(g, dq, x);
            if (g.isConstant(x)) {
                Tensor codes = g.constant(x);
                requireType(dq, q.type(), CONSTANT_TYPES);
                int[] ints = new int[codes.size()];
                for (int i = 0; i < ints.length; i++) {
                    ints[i] = (int) codes.longs()[i];
                }
                QTensor qt = new QTensor(codes.shape(), ints, q);
                g.constants().put(dq.output(0), qt.dequantize());
                spec.putConstant(dq.output(0), qt);
                g.nodes().remove(dq);
                continue;
            }
            Node qn = g.producer(x);
            if (qn == null || !isQdq(qn, "QuantizeLinear")) {
                throw new SimulatorException(
                        Code.UNSUPPORTED_QUANTIZATION,
                        "DequantizeLinear '" + dq.name()
                                + "' reads '" + x + "', which is neither a constant nor a QuantizeLinear output;"
                                + " only QDQ models (QuantizeLinear -> DequantizeLinear pairs) are supported");
            }
            requireType(dq, q.type(), ACTIVATION_TYPES);
            String t = qn.input(0);
            String out = dq.output(0);
            g.nodes().remove(dq);
            if (g.consumers(x).isEmpty() && !g.outputs().contains(x)) {
                g.nodes().remove(qn);
            }
            if (g.outputs().contains(out)) {
                // The graph output keeps its name: the float tensor before Q takes it.
                renameTensor(g, t, out);
                spec.renameActivation(t, out);
                spec.putActivation(out, q);
            } else {
                g.renameUses(out, t);
                spec.putActivation(t, q);
            }
        }
        for (Node n : g.nodes()) {
            if (isQdq(n, "QuantizeLinear")) {
                throw new SimulatorException(
                        Code.UNSUPPORTED_QUANTIZATION,
                        "QuantizeLinear '" + n.name()
                                + "' has no DequantizeLinear after it; integer graph outputs are not supported");
            }
        }
        extractFloat32Marks(g, spec);
        extractCastPairs(g, spec);
        // After this graph's pairs, whose removal renamed what the branches read of it.
        for (Node n : g.nodes()) {
            if (n.opType().equals("If") && n.domain().isEmpty()) {
                for (Graph branch : Subgraphs.of(n)) {
                    extract(branch, spec);
                }
            }
        }
        g.pruneConstants();
    }

    /**
     * {@code constant -> Identity -> t} (chains too, as exporters write them for deduplicated
     * initializers): consumers of t read the constant, so a DequantizeLinear behind the chain reads
     * a constant. A graph output keeps its Identity.
     */
    private static void foldConstantIdentities(Graph g) {
        for (Node n : new ArrayList<>(g.nodes())) {
            if (n.opType().equals("Identity")
                    && n.domain().isEmpty()
                    && g.isConstant(n.input(0))
                    && !g.outputs().contains(n.output(0))) {
                g.renameUses(n.output(0), n.input(0));
                g.nodes().remove(n);
            }
        }
    }

    /** FLOAT16 constant -> Cast(to=FLOAT) becomes a float32 constant holding the fp16 values. */
    private static void foldFp16Constants(Graph g) {
        for (Node n : new ArrayList<>(g.nodes())) {
            if (isCastTo(n, ONNX_FLOAT)
                    && g.isConstant(n.input(0))
                    && g.constant(n.input(0)).dtype() == DType.FLOAT16) {
                Tensor h = g.constant(n.input(0));
                g.constants()
                        .put(n.output(0), Tensor.ofFloats(h.shape(), h.floats().clone()));
                g.nodes().remove(n);
            }
        }
    }

    /** {@code t -> Cast(to=FLOAT) -> t'} with t' quantized or fp16-converted: t is a float32 layer's output. */
    private static void extractFloat32Marks(Graph g, QuantSpec spec) {
        for (Node n : new ArrayList<>(g.nodes())) {
            if (!isCastTo(n, ONNX_FLOAT)) {
                continue;
            }
            String t = n.input(0);
            String out = n.output(0);
            Node producer = g.producer(t);
            if (producer == null || NOT_FLOAT_OUTPUT.contains(producer.opType())) {
                continue;
            }
            boolean marks =
                    spec.activation(out) != null || g.consumers(out).stream().anyMatch(c -> castPairEnd(g, c) != null);
            if (marks) {
                g.nodes().remove(n);
                spec.markFloat32(collapse(g, spec, t, out));
            }
        }
    }

    /** {@code t -> Cast(to=FLOAT16) -> Cast(to=FLOAT) -> t'}: fp16 layer output or conversion into one. */
    private static void extractCastPairs(Graph g, QuantSpec spec) {
        for (Node c16 : new ArrayList<>(g.nodes())) {
            Node c32 = castPairEnd(g, c16);
            if (c32 == null) {
                continue;
            }
            String t = c16.input(0);
            if (g.isConstant(t)) {
                continue; // a constant rounded to fp16: constant folding computes it
            }
            Node producer = g.producer(t);
            boolean fp16 = producer != null && !g.isConstant(t) && spec.activation(t) == null && !spec.isFloat32(t);
            g.nodes().remove(c16);
            g.nodes().remove(c32);
            String kept = collapse(g, spec, t, c32.output(0));
            if (fp16) {
                spec.markFp16(kept);
            }
        }
    }

    /** The Cast(to=FLOAT) that alone reads a Cast(to=FLOAT16) node's output, or null. */
    private static Node castPairEnd(Graph g, Node c16) {
        if (!isCastTo(c16, ONNX_FLOAT16) || g.outputs().contains(c16.output(0))) {
            return null;
        }
        List<Node> users = g.consumers(c16.output(0));
        return users.size() == 1 && isCastTo(users.get(0), ONNX_FLOAT) ? users.get(0) : null;
    }

    private static boolean isCastTo(Node n, int type) {
        return n.opType().equals("Cast")
                && n.domain().isEmpty()
                && n.attrInt("to", -1) == type
                && n.outputs().size() == 1;
    }

    /**
     * Makes {@code in} and {@code out} one tensor once the nodes between them are removed: a graph
     * output keeps its name (the tensor before takes it), otherwise uses of out read in. Returns the
     * surviving name.
     */
    private static String collapse(Graph g, QuantSpec spec, String in, String out) {
        if (g.outputs().contains(out)) {
            renameTensor(g, in, out);
            spec.renameTensor(in, out);
            return out;
        }
        g.renameUses(out, in);
        spec.renameTensor(out, in);
        return in;
    }

    private static void renameTensor(Graph g, String from, String to) {
        for (Node n : g.nodes()) {
            List<String> outs = n.outputs();
            for (int i = 0; i < outs.size(); i++) {
                if (outs.get(i).equals(from)) {
                    outs.set(i, to);
                }
            }
        }
        g.inputs()
                .replaceAll(v -> v.name().equals(from)
                        ? new dev.layerprobe.simulator.graph.ValueInfo(to, v.dtype(), v.shape())
                        : v);
        g.renameUses(from, to);
    }

    private static QuantParams params(Graph g, Node dq, String x) throws SimulatorException {
        Tensor scale = g.constant(dq.input(1));
        if (scale == null) {
            throw new SimulatorException(
                    Code.UNSUPPORTED_QUANTIZATION,
                    "DequantizeLinear '" + dq.name() + "' has a scale that is not a constant");
        }
        Tensor zp = dq.hasInput(2) ? g.constant(dq.input(2)) : null;
        if (dq.hasInput(2) && zp == null) {
            throw new SimulatorException(
                    Code.UNSUPPORTED_QUANTIZATION,
                    "DequantizeLinear '" + dq.name() + "' has a zero point that is not a constant");
        }
        DType type;
        if (zp != null) {
            type = zp.dtype();
        } else if (g.isConstant(x)) {
            type = g.constant(x).dtype();
        } else {
            type = DType.UINT8;
        }
        if (type.isFloating()
                || !Set.of(DType.INT8, DType.UINT8, DType.INT16, DType.INT32).contains(type)) {
            throw new SimulatorException(
                    Code.UNSUPPORTED_QUANTIZATION,
                    "DequantizeLinear '" + dq.name() + "' uses type " + type
                            + "; the simulator quantizes to [INT8, UINT8, INT16, INT32]");
        }
        float[] s = scale.toFloat().floats();
        long[] z = new long[s.length];
        if (zp != null) {
            if (zp.size() != s.length) {
                throw new SimulatorException(
                        Code.INVALID_MODEL,
                        "DequantizeLinear '" + dq.name() + "': scale has " + s.length + " values, zero point "
                                + zp.size());
            }
            for (int i = 0; i < z.length; i++) {
                z[i] = zp.longs()[i];
            }
        }
        int axis = (int) dq.attrInt("axis", 1);
        if (s.length > 1 && axis < 0) {
            int rank = g.isConstant(x) ? g.constant(x).rank() : 4;
            axis += rank;
        }
        try {
            return new QuantParams(type, s, z, axis);
        } catch (IllegalArgumentException e) {
            throw new SimulatorException(
                    Code.UNSUPPORTED_QUANTIZATION, "DequantizeLinear '" + dq.name() + "': " + e.getMessage());
        }
    }

    private static void requireType(Node dq, DType t, Set<DType> allowed) throws SimulatorException {
        if (!allowed.contains(t)) {
            throw new SimulatorException(
                    Code.UNSUPPORTED_QUANTIZATION,
                    "DequantizeLinear '" + dq.name() + "' uses " + t + " here; supported: " + allowed);
        }
    }
}
