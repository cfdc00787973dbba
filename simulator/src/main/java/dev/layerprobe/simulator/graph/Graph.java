package dev.layerprobe.simulator.graph;

import dev.layerprobe.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The simulator's editable form of an ONNX graph: nodes in topological order, constant tensors
 * (initializers and folded values) by name, graph inputs (without initializers) and outputs.
 * Graph passes rewrite it in place; it is not thread-safe.
 */
public final class Graph {
    private final List<Node> nodes;
    private final Map<String, Tensor> constants;
    private final List<ValueInfo> inputs;
    private final List<String> outputs;
    private final Map<String, Integer> opsets;
    private final String name;
    private final Map<String, ValueInfo> outputInfos = new HashMap<>();

    public Graph(
            String name,
            List<Node> nodes,
            Map<String, Tensor> constants,
            List<ValueInfo> inputs,
            List<String> outputs,
            Map<String, Integer> opsets) {
        this.name = name;
        this.nodes = new ArrayList<>(nodes);
        this.constants = new LinkedHashMap<>(constants);
        this.inputs = new ArrayList<>(inputs);
        this.outputs = new ArrayList<>(outputs);
        this.opsets = new HashMap<>(opsets);
    }

    public String name() {
        return name;
    }

    /** Mutable node list, kept in topological order by every pass. */
    public List<Node> nodes() {
        return nodes;
    }

    /** Mutable map of constant tensors (initializers and folded values). */
    public Map<String, Tensor> constants() {
        return constants;
    }

    public boolean isConstant(String tensor) {
        return constants.containsKey(tensor);
    }

    public Tensor constant(String tensor) {
        return constants.get(tensor);
    }

    /** Graph inputs that are not initializers. */
    public List<ValueInfo> inputs() {
        return inputs;
    }

    public List<String> outputs() {
        return outputs;
    }

    /**
     * Declared types of graph outputs by name, where they are known and matter: a subgraph's
     * outputs, which the ONNX file states and a writer repeats. Mutable; may be empty.
     */
    public Map<String, ValueInfo> outputInfos() {
        return outputInfos;
    }

    /** Opset version by domain ("" is the default ONNX domain). */
    public Map<String, Integer> opsets() {
        return opsets;
    }

    public int opset() {
        return opsets.getOrDefault("", opsets.getOrDefault("ai.onnx", 13));
    }

    /** The node producing a tensor, or null for inputs and constants. */
    public Node producer(String tensor) {
        for (Node n : nodes) {
            if (n.outputs().contains(tensor)) {
                return n;
            }
        }
        return null;
    }

    /**
     * Nodes consuming a tensor, in graph order: as an input, or, for a control-flow node, read by
     * one of its subgraphs ({@link Subgraphs#outerReads}).
     */
    public List<Node> consumers(String tensor) {
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) {
            if (n.inputs().contains(tensor)
                    || (Subgraphs.has(n) && Subgraphs.outerReads(n).contains(tensor))) {
                out.add(n);
            }
        }
        return out;
    }

    /**
     * Replaces every use of tensor {@code from} by {@code to}, in nodes, in the subgraphs that read
     * it from this graph, and in graph outputs.
     */
    public void renameUses(String from, String to) {
        for (Node n : nodes) {
            if (Subgraphs.has(n)) {
                Subgraphs.renameOuterReads(n, from, to);
            }
            List<String> in = n.inputs();
            for (int i = 0; i < in.size(); i++) {
                if (in.get(i).equals(from)) {
                    in.set(i, to);
                }
            }
        }
        for (int i = 0; i < outputs.size(); i++) {
            if (outputs.get(i).equals(from)) {
                outputs.set(i, to);
            }
        }
    }

    /** Drops constants no node or output uses any more. */
    public void pruneConstants() {
        Set<String> used = new HashSet<>(outputs);
        for (Node n : nodes) {
            used.addAll(n.inputs());
            used.addAll(Subgraphs.outerReads(n));
        }
        constants.keySet().retainAll(used);
    }
}
