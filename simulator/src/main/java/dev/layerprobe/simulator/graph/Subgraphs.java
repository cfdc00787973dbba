package dev.layerprobe.simulator.graph;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The subgraphs of control-flow nodes (If, Loop, Scan) and the values they read from the graphs
 * around them. A body may read any value of an enclosing graph by name without listing it as an
 * input of its node (ONNX's outer scope); these reads are the node's implicit inputs, and graph
 * passes treat them as uses of those values, so that no pass removes, renames or fuses away a value
 * a body reads.
 */
public final class Subgraphs {
    private Subgraphs() {}

    /** The subgraph attributes of a node, in attribute order; empty for an ordinary node. */
    public static List<Graph> of(Node n) {
        List<Graph> out = new ArrayList<>();
        for (Attribute a : n.attributes().values()) {
            if (a.kind() == Attribute.Kind.GRAPH) {
                out.add(a.g());
            }
        }
        return out;
    }

    public static boolean has(Node n) {
        for (Attribute a : n.attributes().values()) {
            if (a.kind() == Attribute.Kind.GRAPH) {
                return true;
            }
        }
        return false;
    }

    /**
     * The values a node's subgraphs read from enclosing graphs (at any depth of nesting), in order
     * of first read: names no subgraph defines as an input, constant or node output on the way.
     */
    public static Set<String> outerReads(Node n) {
        Set<String> out = new LinkedHashSet<>();
        for (Graph g : of(n)) {
            out.addAll(outerReads(g));
        }
        return out;
    }

    /** The values a graph reads that it does not define itself. */
    public static Set<String> outerReads(Graph g) {
        Set<String> defined = new HashSet<>(g.constants().keySet());
        g.inputs().forEach(v -> defined.add(v.name()));
        Set<String> out = new LinkedHashSet<>();
        for (Node n : g.nodes()) {
            for (String in : n.inputs()) {
                if (!in.isEmpty() && !defined.contains(in)) {
                    out.add(in);
                }
            }
            for (String in : outerReads(n)) {
                if (!defined.contains(in)) {
                    out.add(in);
                }
            }
            defined.addAll(n.outputs());
        }
        for (String o : g.outputs()) {
            if (!defined.contains(o)) {
                out.add(o);
            }
        }
        return out;
    }

    /** Renames the reads of an outer value {@code from} inside a node's subgraphs that do not define it. */
    static void renameOuterReads(Node n, String from, String to) {
        for (Graph g : of(n)) {
            if (!defines(g, from)) {
                g.renameUses(from, to);
            }
        }
    }

    private static boolean defines(Graph g, String name) {
        if (g.isConstant(name) || g.inputs().stream().anyMatch(v -> v.name().equals(name))) {
            return true;
        }
        return g.nodes().stream().anyMatch(n -> n.outputs().contains(name));
    }
}
