package dev.layerprobe.simulator.onnx;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.AttributeProto;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.onnx.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A copy of an ONNX model with intermediate values appended as graph outputs, so that one run of a
 * runtime that only returns graph outputs (ONNX Runtime) yields every layer, each keyed by the name
 * the rest of LayerProbe gives that layer: an ONNX output tensor name (docs/architecture.md#layer-identity).
 *
 * <p>Two selections:
 * <ul>
 *   <li>{@link #everyNodeOutput}: every node output under its own name; the golden reference
 *       exposes a float model this way.</li>
 *   <li>{@link #quantizedLayers}: what a runtime executing a QDQ model materialises. The output of
 *       every QuantizeLinear that a DequantizeLinear reads (the integer codes) is exposed under the
 *       name {@code QdqImport} gives the layer: the QuantizeLinear's input, or the
 *       DequantizeLinear's output when that is a graph output; a {@code Cast(to=FLOAT)} in front of
 *       the QuantizeLinear (the marker of a float32 layer) is looked through. Float values that no
 *       QuantizeLinear reads (layers left in float, graph outputs) are exposed under their own
 *       names. DequantizeLinear outputs and the float values QuantizeLinear nodes read are <em>not</em>
 *       exposed: ONNX Runtime fuses DequantizeLinear → op → QuantizeLinear into one integer kernel
 *       only while the op's output and the DequantizeLinear's output feed nothing else, so exposing
 *       them would change the very numerics being measured. Codes are fetched through an Identity
 *       node on the QuantizeLinear's output. A second reader of that output would stop ONNX Runtime
 *       from turning an int8 QuantizeLinear/DequantizeLinear pair into uint8 (its
 *       {@code QDQS8ToU8Transformer}, which needs the pair alone; without it x86 runs Conv in float),
 *       so the copy makes that same exact change itself for the pairs ONNX Runtime would convert
 *       (both zero points scalar int8 constants and equal, the QuantizeLinear read by that
 *       DequantizeLinear alone, and its output used once): codes and zero point +128, the same real values. Such codes carry
 *       {@link Exposed#codeOffset()} 128. On a model without QuantizeLinear both selections are
 *       the same.</li>
 * </ul>
 * Values come in node order, which ONNX requires to be topological. Graph inputs are not listed.
 * Outputs are appended by name only: the runtime infers their types. Immutable.
 */
public final class IntermediateOutputs {
    private static final Set<String> QDQ_DOMAINS = Set.of("", "ai.onnx", "com.microsoft");
    private static final int ONNX_FLOAT = 1;
    /**
     * Codes are fetched through an Identity node named by the QuantizeLinear's output plus this
     * suffix: ONNX Runtime does not fuse a group whose QuantizeLinear itself produces a graph output.
     */
    static final String CODES_SUFFIX = "/layerprobe_codes";

    private static final String U8_ZERO_POINT_SUFFIX = "/layerprobe_u8_zero_point";
    private static final int U8_SHIFT = 128;

    /**
     * One value a run of {@link #model()} returns.
     *
     * @param layer    the layer's name, as the simulator and the host name it
     * @param tensor   the graph tensor to fetch (differs from {@code layer} for quantized codes)
     * @param producer the node that computes the layer's value (for codes, the node before the
     *                 QuantizeLinear), or null when a graph input is quantized
     * @param quant    for integer codes, the QuantizeLinear's mapping (its type from the zero
     *                 point, UINT8 without one, as ONNX says); null for a float value
     * @param codeOffset what the fetched codes exceed {@code quant}'s codes by: 128 for an int8 pair
     *                 the copy holds as uint8 (see the class comment), 0 otherwise
     */
    public record Exposed(String layer, String tensor, NodeProto producer, QuantParams quant, int codeOffset) {
        /** Whether the tensor holds integer codes rather than real values. */
        public boolean isCodes() {
            return quant != null;
        }
    }

    private final ModelProto model;
    private final List<Exposed> values;

    private IntermediateOutputs(ModelProto model, List<Exposed> values) {
        this.model = model;
        this.values = List.copyOf(values);
    }

    /** Every node output under its own name ("" marks an omitted optional output and is skipped). */
    public static IntermediateOutputs everyNodeOutput(ModelProto model) {
        List<Exposed> values = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (NodeProto n : model.getGraph().getNodeList()) {
            for (String o : n.getOutputList()) {
                if (!o.isEmpty() && seen.add(o)) {
                    values.add(new Exposed(o, o, n, null, 0));
                }
            }
        }
        return new IntermediateOutputs(withOutputs(model, values), values);
    }

    /** The layers a QDQ runtime materialises, see the class comment. */
    public static IntermediateOutputs quantizedLayers(ModelProto model) {
        GraphProto g = model.getGraph();
        Map<String, NodeProto> producers = new HashMap<>();
        Map<String, List<NodeProto>> consumers = new HashMap<>();
        Map<String, TensorProto> constants = new HashMap<>();
        for (TensorProto t : g.getInitializerList()) {
            constants.put(t.getName(), t);
        }
        for (NodeProto n : g.getNodeList()) {
            for (String o : n.getOutputList()) {
                producers.put(o, n);
            }
            for (String in : n.getInputList()) {
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            }
            if (n.getOpType().equals("Constant") && n.getOutputCount() == 1) {
                for (AttributeProto a : n.getAttributeList()) {
                    if (a.getName().equals("value") && a.hasT()) {
                        constants.put(n.getOutput(0), a.getT());
                    }
                }
            }
        }
        Set<String> graphOutputs = new HashSet<>();
        for (ValueInfoProto v : g.getOutputList()) {
            graphOutputs.add(v.getName());
        }
        // Float values on the way into a QuantizeLinear (Conv -> Clip -> Q: both Conv's and Clip's
        // outputs) stay internal, found walking the nodes backwards (ONNX orders them topologically).
        Set<String> hidden = new HashSet<>();
        List<NodeProto> nodes = g.getNodeList();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            NodeProto n = nodes.get(i);
            if (isQdq(n, "QuantizeLinear")) {
                hidden.add(n.getInput(0));
            } else if (isQdq(n, "DequantizeLinear")) {
                hidden.addAll(n.getOutputList());
            } else if (n.getOutputList().stream().anyMatch(hidden::contains)) {
                for (String in : n.getInputList()) {
                    if (!constants.containsKey(in) && !isDqOutput(in, producers)) {
                        hidden.add(in);
                    }
                }
            }
        }

        List<Exposed> values = new ArrayList<>();
        Set<String> layers = new HashSet<>();
        for (NodeProto n : g.getNodeList()) {
            if (isQdq(n, "QuantizeLinear")) {
                Exposed e = codes(n, producers, consumers, constants, graphOutputs);
                if (e != null && layers.add(e.layer())) {
                    values.add(e);
                }
                continue;
            }
            if (isQdq(n, "DequantizeLinear")) {
                continue;
            }
            for (String o : n.getOutputList()) {
                // A graph output is returned anyway; exposing it costs nothing.
                if (!o.isEmpty() && (graphOutputs.contains(o) || !hidden.contains(o)) && layers.add(o)) {
                    values.add(new Exposed(o, o, n, null, 0));
                }
            }
        }
        List<Exposed> fetched = new ArrayList<>();
        GraphProto.Builder gb = g.toBuilder();
        for (Exposed e : values) {
            fetched.add(
                    e.isCodes() && shiftToUint8(gb, e, consumers, constants, graphOutputs)
                            ? new Exposed(e.layer(), e.tensor(), e.producer(), e.quant(), U8_SHIFT)
                            : e);
        }
        return new IntermediateOutputs(
                withOutputs(model.toBuilder().setGraph(gb).build(), fetched), fetched);
    }

    /**
     * Rewrites the int8 QuantizeLinear/DequantizeLinear pair whose codes {@code e} fetches to uint8
     * as ONNX Runtime's {@code QDQS8ToU8Transformer} would, if it would; returns whether it did.
     */
    private static boolean shiftToUint8(
            GraphProto.Builder gb,
            Exposed e,
            Map<String, List<NodeProto>> consumers,
            Map<String, TensorProto> constants,
            Set<String> graphOutputs) {
        String codes = codesTensor(e);
        List<NodeProto> readers = consumers.getOrDefault(codes, List.of());
        if (graphOutputs.contains(codes) || readers.size() != 1 || !isQdq(readers.get(0), "DequantizeLinear")) {
            return false;
        }
        // ONNX Runtime first gives each reader of a DequantizeLinear its own copy
        // (EnsureUniqueDQForNodeUnit); the QuantizeLinear then has several readers and stays int8.
        String dqOut = readers.get(0).getOutput(0);
        if (consumers.getOrDefault(dqOut, List.of()).size() + (graphOutputs.contains(dqOut) ? 1 : 0) > 1) {
            return false;
        }
        int qi = -1;
        int dqi = -1;
        for (int i = 0; i < gb.getNodeCount(); i++) {
            NodeProto n = gb.getNode(i);
            if (isQdq(n, "QuantizeLinear") && n.getOutput(0).equals(codes)) {
                qi = i;
            } else if (n.equals(readers.get(0))) {
                dqi = i;
            }
        }
        NodeProto q = gb.getNode(qi);
        NodeProto dq = gb.getNode(dqi);
        if (q.getInputCount() != 3 || dq.getInputCount() != 3) {
            return false;
        }
        Long qz = int8Scalar(constants.get(q.getInput(2)));
        Long dqz = int8Scalar(constants.get(dq.getInput(2)));
        if (qz == null || !qz.equals(dqz)) {
            return false;
        }
        String zp = codes + U8_ZERO_POINT_SUFFIX;
        gb.addInitializer(
                TensorProtos.fromTensor(zp, Tensor.ofLongs(DType.UINT8, new int[0], new long[] {qz + U8_SHIFT})));
        gb.setNode(qi, q.toBuilder().setInput(2, zp));
        gb.setNode(dqi, dq.toBuilder().setInput(2, zp));
        return true;
    }

    private static Long int8Scalar(TensorProto t) {
        if (t == null || t.getDataType() != DType.INT8.onnxCode()) {
            return null;
        }
        try {
            Tensor v = TensorProtos.toTensor(t);
            return v.size() == 1 ? v.getLong(0) : null;
        } catch (IllegalArgumentException ex) {
            return null;
        }
    }

    private static String codesTensor(Exposed e) {
        return e.tensor().substring(0, e.tensor().length() - CODES_SUFFIX.length());
    }

    /** The codes of an activation QuantizeLinear, or null when it is not one (nothing dequantizes it, or its mapping is not constant). */
    private static Exposed codes(
            NodeProto q,
            Map<String, NodeProto> producers,
            Map<String, List<NodeProto>> consumers,
            Map<String, TensorProto> constants,
            Set<String> graphOutputs) {
        String codes = q.getOutput(0);
        List<NodeProto> dqs = consumers.getOrDefault(codes, List.of()).stream()
                .filter(c -> isQdq(c, "DequantizeLinear"))
                .toList();
        QuantParams quant = params(q, constants);
        if (dqs.isEmpty() || quant == null) {
            return null;
        }
        String layer = q.getInput(0);
        NodeProto producer = producers.get(layer);
        if (producer != null && isCastToFloat(producer) && producers.containsKey(producer.getInput(0))) {
            layer = producer.getInput(0);
            producer = producers.get(layer);
        }
        for (NodeProto dq : dqs) {
            if (graphOutputs.contains(dq.getOutput(0))) {
                layer = dq.getOutput(0);
            }
        }
        return new Exposed(layer, codes + CODES_SUFFIX, producer, quant, 0);
    }

    private static QuantParams params(NodeProto q, Map<String, TensorProto> constants) {
        TensorProto scale = q.getInputCount() > 1 ? constants.get(q.getInput(1)) : null;
        boolean hasZeroPoint = q.getInputCount() > 2 && !q.getInput(2).isEmpty();
        TensorProto zp = hasZeroPoint ? constants.get(q.getInput(2)) : null;
        if (scale == null || (hasZeroPoint && zp == null)) {
            return null;
        }
        try {
            float[] s = TensorProtos.toTensor(scale).toFloat().floats();
            long[] z = new long[s.length];
            DType type = DType.UINT8;
            if (zp != null) {
                Tensor zt = TensorProtos.toTensor(zp);
                type = zt.dtype();
                if (zt.size() != s.length) {
                    return null;
                }
                for (int i = 0; i < z.length; i++) {
                    z[i] = zt.getLong(i);
                }
            }
            int axis = 1;
            for (AttributeProto a : q.getAttributeList()) {
                if (a.getName().equals("axis")) {
                    axis = (int) a.getI();
                }
            }
            return new QuantParams(type, s, z, axis);
        } catch (IllegalArgumentException e) {
            // A type or scale the simulator cannot hold (float8, int4, a zero scale): no codes to report.
            return null;
        }
    }

    private static ModelProto withOutputs(ModelProto model, List<Exposed> values) {
        GraphProto g = model.getGraph();
        Set<String> outputs = new HashSet<>();
        for (ValueInfoProto v : g.getOutputList()) {
            outputs.add(v.getName());
        }
        GraphProto.Builder gb = g.toBuilder();
        for (Exposed e : values) {
            if (e.isCodes()) {
                gb.addNode(NodeProto.newBuilder()
                        .setOpType("Identity")
                        .setName(e.tensor())
                        .addInput(codesTensor(e))
                        .addOutput(e.tensor()));
            }
            if (outputs.add(e.tensor())) {
                gb.addOutput(ValueInfoProto.newBuilder().setName(e.tensor()));
            }
        }
        return model.toBuilder().setGraph(gb).build();
    }

    private static boolean isQdq(NodeProto n, String op) {
        return n.getOpType().equals(op) && QDQ_DOMAINS.contains(n.getDomain());
    }

    private static boolean isDqOutput(String tensor, Map<String, NodeProto> producers) {
        NodeProto p = producers.get(tensor);
        return p != null && isQdq(p, "DequantizeLinear");
    }

    private static boolean isCastToFloat(NodeProto n) {
        if (!n.getOpType().equals("Cast") || !n.getDomain().isEmpty()) {
            return false;
        }
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals("to")) {
                return a.getI() == ONNX_FLOAT;
            }
        }
        return false;
    }

    /** The model with the selected values as extra graph outputs. */
    public ModelProto model() {
        return model;
    }

    /** The values a run returns, in node order. */
    public List<Exposed> values() {
        return values;
    }
}
