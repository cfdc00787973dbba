package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.quant.QuantSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Graph pass: finds LayerNormalization spelt out as exporters write it before opset 17,
 * {@code d = x - ReduceMean(x); y = d / Sqrt(ReduceMean(Pow(d, 2)) + eps) * gamma + beta} (the
 * square also as {@code Mul(d, d)}; gamma and beta optional), over the last axis, and makes it one
 * layer named {@value #NAME}, which a quantized program runs as one integer kernel like the native
 * op. The nodes must form exactly that chain: every intermediate result used only inside it, not a
 * graph output and not quantized; eps, gamma and beta constants.
 */
final class LayerNormFusion {
    /** The layer's op. */
    static final String NAME = "LayerNormalization";

    /** A spelt-out LayerNormalization: its nodes in graph order and its input. */
    record Match(List<Node> nodes, String input) {}

    /** What the integer kernel needs of a match. */
    record Params(float epsilon, Tensor scale, Tensor bias) {}

    private LayerNormFusion() {}

    static List<Match> find(Graph g, QuantSpec spec) {
        List<Match> found = new ArrayList<>();
        for (Node mean : g.nodes()) {
            Match m = match(g, spec, mean);
            if (m != null) {
                found.add(m);
            }
        }
        return found;
    }

    private static Match match(Graph g, QuantSpec spec, Node mean) {
        if (!isLastAxisMean(g, mean)) {
            return null;
        }
        String x = mean.input(0);
        Node sub = only(g, mean.output(0));
        if (sub == null
                || !sub.opType().equals("Sub")
                || !sub.input(0).equals(x)
                || !sub.input(1).equals(mean.output(0))) {
            return null;
        }
        String d = sub.output(0);
        List<Node> users = g.consumers(d);
        if (users.size() < 2 || users.size() > 3) {
            return null;
        }
        Node square = null;
        Node div = null;
        for (Node u : users) {
            if (u.opType().equals("Pow") && u.input(0).equals(d) && constantEquals(g, u.input(1), 2f)) {
                square = u;
            } else if (u.opType().equals("Mul")
                    && u.input(0).equals(d)
                    && u.input(1).equals(d)) {
                square = u;
            } else if (u.opType().equals("Div") && u.input(0).equals(d)) {
                div = u;
            }
        }
        if (square == null || div == null || users.size() != 2) {
            return null;
        }
        Node var = only(g, square.output(0));
        if (var == null || !isLastAxisMean(g, var) || !var.input(0).equals(square.output(0))) {
            return null;
        }
        Node addEps = only(g, var.output(0));
        if (addEps == null || !addEps.opType().equals("Add") || scalarOperand(g, addEps, var.output(0)) == null) {
            return null;
        }
        Node sqrt = only(g, addEps.output(0));
        if (sqrt == null || !sqrt.opType().equals("Sqrt") || !div.input(1).equals(sqrt.output(0))) {
            return null;
        }
        List<Node> nodes = new ArrayList<>(List.of(mean, sub, square, var, addEps, sqrt, div));
        Node last = div;
        Node mul = only(g, last.output(0));
        if (mul != null && mul.opType().equals("Mul") && constantOperand(g, mul, last.output(0)) != null) {
            nodes.add(mul);
            last = mul;
        }
        Node add = only(g, last.output(0));
        if (add != null && add.opType().equals("Add") && constantOperand(g, add, last.output(0)) != null) {
            nodes.add(add);
        }
        Set<Node> members = new HashSet<>(nodes);
        for (int i = 0; i < nodes.size() - 1; i++) {
            String out = nodes.get(i).output(0);
            if (g.outputs().contains(out) || spec.activation(out) != null) {
                return null;
            }
            for (Node c : g.consumers(out)) {
                if (!members.contains(c)) {
                    return null;
                }
            }
        }
        // Graph order, as the group's nodes are evaluated.
        List<Node> ordered = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (members.contains(n)) {
                ordered.add(n);
            }
        }
        return new Match(ordered, x);
    }

    /** The constants of a match (nodes as {@link #find} returns them). */
    static Params params(Graph g, List<Node> nodes) {
        Node addEps = null;
        Node div = null;
        Tensor scale = null;
        Tensor bias = null;
        for (Node n : nodes) {
            switch (n.opType()) {
                case "Div" -> div = n;
                case "Add" -> {
                    if (div == null) {
                        addEps = n;
                    } else {
                        bias = constantOperand(g, n, other(g, n));
                    }
                }
                case "Mul" -> {
                    if (div != null) {
                        scale = constantOperand(g, n, other(g, n));
                    }
                }
                default -> {}
            }
        }
        Node eps = addEps;
        Tensor e = eps == null ? null : constantOperand(g, eps, other(g, eps));
        return new Params(e == null ? 0f : (float) e.getDouble(0), scale, bias);
    }

    /** The non-constant input of a binary node. */
    private static String other(Graph g, Node n) {
        return g.isConstant(n.input(0)) ? n.input(1) : n.input(0);
    }

    /** ReduceMean over the last axis only, keeping dims (axes as attribute, or as input from opset 18). */
    private static boolean isLastAxisMean(Graph g, Node n) {
        if (!n.opType().equals("ReduceMean") || n.attrInt("keepdims", 1) != 1) {
            return false;
        }
        long[] axes = n.attrInts("axes", null);
        if (axes == null && n.hasInput(1) && g.isConstant(n.input(1))) {
            axes = g.constant(n.input(1)).longs();
        }
        return axes != null && Arrays.equals(axes, new long[] {-1});
    }

    private static Node only(Graph g, String tensor) {
        List<Node> c = g.consumers(tensor);
        return c.size() == 1 && !g.outputs().contains(tensor) ? c.get(0) : null;
    }

    private static boolean constantEquals(Graph g, String t, float v) {
        return g.isConstant(t) && g.constant(t).size() == 1 && g.constant(t).getDouble(0) == v;
    }

    /** The scalar constant operand of a binary node whose other operand is {@code runtime}. */
    private static Tensor scalarOperand(Graph g, Node n, String runtime) {
        Tensor c = constantOperand(g, n, runtime);
        return c != null && c.size() == 1 ? c : null;
    }

    /** The constant operand of a binary node whose other operand is {@code runtime}, or null. */
    private static Tensor constantOperand(Graph g, Node n, String runtime) {
        if (n.inputs().size() != 2) {
            return null;
        }
        String c = n.input(0).equals(runtime) ? n.input(1) : n.input(1).equals(runtime) ? n.input(0) : null;
        return c != null && g.isConstant(c) && g.constant(c).isFloating() ? g.constant(c) : null;
    }
}
