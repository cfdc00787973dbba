package dev.layerprobe.simulator.onnx;

import dev.layerprobe.onnx.Onnx.AttributeProto;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.SparseTensorProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.onnx.Onnx.ValueInfoProto;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The prefix of a model up to a cut: a valid ONNX model whose outputs are chosen values of the
 * original, holding only what computes them. It is what a device runs to show one value of a model
 * without dumping every layer (bisecting a runtime fault), and what any ONNX runtime loads.
 *
 * <p>The prefix keeps, in the original order (so it stays topologically sorted), the nodes the cut
 * values depend on, following node inputs and the values the subgraphs of control-flow nodes read
 * from the outer scope; the initializers, sparse initializers and graph inputs those nodes read; the
 * value_info of kept values; and everything at model level (opsets, IR version, functions, metadata).
 * A cut value keeps its type and shape when the original declares them (as an output or in
 * value_info), else it is an output by name and the runtime infers its type. Graph inputs the prefix
 * does not read are dropped, since a runtime asks for every declared input.
 *
 * <p>In a QDQ model a layer's value is quantized by the QuantizeLinear → DequantizeLinear pair that
 * follows it; {@link #layerCut} cuts after that pair, so the prefix computes the layer's codes as the
 * whole model does (a runtime fuses DequantizeLinear → op → QuantizeLinear into one integer kernel
 * only with the pair in place) and outputs their real values, exactly {@code scale * (code - zp)}.
 * Stateless.
 */
public final class PrefixModels {
    private PrefixModels() {}

    /**
     * The prefix whose outputs are {@code outputs}, in that order.
     *
     * @throws IllegalArgumentException naming a value that no node, initializer or input of the
     *     model's main graph gives
     */
    public static ModelProto cut(ModelProto model, List<String> outputs) {
        GraphProto g = model.getGraph();
        Map<String, Integer> producer = new HashMap<>();
        for (int i = 0; i < g.getNodeCount(); i++) {
            for (String o : g.getNode(i).getOutputList()) {
                producer.put(o, i);
            }
        }
        Set<String> given = new HashSet<>();
        g.getInitializerList().forEach(t -> given.add(t.getName()));
        g.getSparseInitializerList().forEach(t -> given.add(t.getValues().getName()));
        g.getInputList().forEach(v -> given.add(v.getName()));
        for (String o : outputs) {
            if (!producer.containsKey(o) && !given.contains(o)) {
                throw new IllegalArgumentException("no value '" + o + "' in the model's graph to cut at");
            }
        }
        boolean[] keep = new boolean[g.getNodeCount()];
        Set<String> read = new HashSet<>();
        Deque<String> todo = new ArrayDeque<>(outputs);
        while (!todo.isEmpty()) {
            String t = todo.pop();
            if (t.isEmpty() || !read.add(t)) {
                continue;
            }
            Integer k = producer.get(t);
            if (k != null && !keep[k]) {
                keep[k] = true;
                NodeProto n = g.getNode(k);
                todo.addAll(n.getInputList());
                todo.addAll(outerReads(n));
            }
        }
        GraphProto.Builder b = g.toBuilder()
                .clearNode()
                .clearInitializer()
                .clearSparseInitializer()
                .clearInput()
                .clearOutput()
                .clearValueInfo();
        for (int i = 0; i < keep.length; i++) {
            if (keep[i]) {
                b.addNode(g.getNode(i));
            }
        }
        for (TensorProto t : g.getInitializerList()) {
            if (read.contains(t.getName())) {
                b.addInitializer(t);
            }
        }
        for (SparseTensorProto t : g.getSparseInitializerList()) {
            if (read.contains(t.getValues().getName())) {
                b.addSparseInitializer(t);
            }
        }
        for (ValueInfoProto v : g.getInputList()) {
            if (read.contains(v.getName())) {
                b.addInput(v);
            }
        }
        Map<String, ValueInfoProto> declared = new HashMap<>();
        g.getValueInfoList().forEach(v -> declared.put(v.getName(), v));
        g.getOutputList().forEach(v -> declared.put(v.getName(), v));
        Set<String> out = new HashSet<>(outputs);
        for (ValueInfoProto v : g.getValueInfoList()) {
            if (read.contains(v.getName()) && !out.contains(v.getName())) {
                b.addValueInfo(v);
            }
        }
        for (String o : outputs) {
            b.addOutput(declared.getOrDefault(
                    o, ValueInfoProto.newBuilder().setName(o).build()));
        }
        return model.toBuilder().setGraph(b).build();
    }

    /**
     * The value to cut at to show {@code layer} (an ONNX tensor name, as LayerProbe names layers):
     * the output of the DequantizeLinear of the QuantizeLinear that quantizes it, when the model
     * has that pair (see the class comment), else the layer's own value.
     */
    public static String layerCut(ModelProto model, String layer) {
        Map<String, NodeProto> quantizers = new HashMap<>();
        Map<String, NodeProto> dequantizers = new HashMap<>();
        for (NodeProto n : model.getGraph().getNodeList()) {
            if (n.getInputCount() > 0 && n.getOpType().equals("QuantizeLinear")) {
                quantizers.putIfAbsent(n.getInput(0), n);
            } else if (n.getInputCount() > 0 && n.getOpType().equals("DequantizeLinear")) {
                dequantizers.putIfAbsent(n.getInput(0), n);
            }
        }
        NodeProto q = quantizers.get(layer);
        NodeProto dq = q == null ? null : dequantizers.get(q.getOutput(0));
        return dq == null ? layer : dq.getOutput(0);
    }

    /** The prefix that shows one layer: {@code cut(model, List.of(layerCut(model, layer)))}. */
    public static ModelProto atLayer(ModelProto model, String layer) {
        return cut(model, List.of(layerCut(model, layer)));
    }

    /**
     * The names a control-flow node's subgraphs read: every input of their nodes, at any depth.
     * Names defined inside are among them; they match no node of the outer graph (a subgraph may
     * not shadow an outer name, as ONNX's scoping rules say) and so add nothing to the prefix.
     */
    private static Set<String> outerReads(NodeProto n) {
        Set<String> reads = new HashSet<>();
        for (AttributeProto a : n.getAttributeList()) {
            if (a.hasG()) {
                reads(a.getG(), reads);
            }
            for (GraphProto sub : a.getGraphsList()) {
                reads(sub, reads);
            }
        }
        return reads;
    }

    private static void reads(GraphProto g, Set<String> into) {
        for (NodeProto n : g.getNodeList()) {
            into.addAll(n.getInputList());
            into.addAll(outerReads(n));
        }
    }
}
