package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.kernels.FloatKernel;
import dev.layerprobe.simulator.kernels.FloatKernels;
import dev.layerprobe.simulator.ops.OpTraits;
import dev.layerprobe.simulator.quant.QuantSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Graph pass: finds chains of elementwise nodes that together compute a known activation of one
 * tensor, such as HardSwish exported as {@code x * clip(x + 3, 0, 6) / 6} or Gelu as
 * {@code 0.5 * x * (1 + erf(x / sqrt 2))}, and makes each one layer, as NPU compilers do (an
 * integer NPU then runs it as one lookup table). The known functions are the patterns of
 * {@link OpTraits#patterns()}.
 *
 * <p>A candidate is a connected set of elementwise nodes ({@link OpTraits.Op#patternMember()})
 * whose only non-constant input is one tensor {@code x}, whose constants are scalars, and whose
 * intermediate results are used only inside the set; it is fused only when sampling it on [-8, 8]
 * identifies a known function, so unrecognised arithmetic keeps its ONNX layers.
 */
final class UnaryPatternFusion {
    /** A fused pattern: its name (the layer's op), its nodes in graph order, and its input. */
    record Pattern(String name, List<Node> nodes, String input) {}

    private static final double[] SAMPLES = samples();
    /** Largest error, relative to max(1, |f(x)|), of a sampled group that computes a known f. */
    private static final double MATCH_TOLERANCE = 1e-3;

    private UnaryPatternFusion() {}

    static List<Pattern> find(Graph g, QuantSpec spec) {
        List<Pattern> found = new ArrayList<>();
        Set<Node> taken = new HashSet<>();
        for (Node start : g.nodes()) {
            if (taken.contains(start) || !member(start) || !scalarConstants(g, start)) {
                continue;
            }
            Set<String> runtime = runtimeInputs(g, start);
            if (runtime.size() != 1) {
                continue;
            }
            String x = runtime.iterator().next();
            List<Node> group = grow(g, start, x, taken);
            if (group.size() < 2) {
                continue;
            }
            for (int end = group.size(); end >= 2; end--) {
                List<Node> sub = new ArrayList<>(group.subList(0, end));
                String name = closed(g, sub, spec) ? identify(g, sub, x) : null;
                if (name != null) {
                    found.add(new Pattern(name, sub, x));
                    taken.addAll(sub);
                    break;
                }
            }
        }
        return found;
    }

    /** Adds, in graph order, every elementwise node fed only by x and the group's own results. */
    private static List<Node> grow(Graph g, Node start, String x, Set<Node> taken) {
        List<Node> group = new ArrayList<>();
        Set<String> produced = new HashSet<>();
        boolean started = false;
        for (Node n : g.nodes()) {
            if (n == start) {
                started = true;
            }
            if (!started || taken.contains(n)) {
                continue;
            }
            if (n != start && (!member(n) || !scalarConstants(g, n))) {
                continue;
            }
            Set<String> in = runtimeInputs(g, n);
            boolean fed = !in.isEmpty();
            boolean usesGroup = n == start;
            for (String i : in) {
                fed &= i.equals(x) || produced.contains(i);
                usesGroup |= produced.contains(i);
            }
            if (fed && usesGroup && n.outputs().size() == 1) {
                group.add(n);
                produced.add(n.output(0));
            }
        }
        return group;
    }

    /** Whether every result but the last one's is used only inside the group (and not quantized). */
    private static boolean closed(Graph g, List<Node> sub, QuantSpec spec) {
        Set<Node> members = new HashSet<>(sub);
        for (int i = 0; i < sub.size() - 1; i++) {
            String out = sub.get(i).output(0);
            if (g.outputs().contains(out) || spec.activation(out) != null) {
                return false;
            }
            for (Node c : g.consumers(out)) {
                if (!members.contains(c)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The known activation this group computes, by sampling it, or null. */
    private static String identify(Graph g, List<Node> nodes, String x) {
        float[] xs = new float[SAMPLES.length];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) SAMPLES[i];
        }
        float[] ys;
        try {
            FloatKernel[] kernels = new FloatKernel[nodes.size()];
            Map<String, Tensor> constants = new HashMap<>();
            for (int i = 0; i < kernels.length; i++) {
                kernels[i] = FloatKernels.create(nodes.get(i), g.opset());
                for (String in : nodes.get(i).inputs()) {
                    if (g.isConstant(in)) {
                        constants.put(in, g.constant(in));
                    }
                }
            }
            Tensor[] out = FloatLayers.evaluate(
                    nodes, kernels, constants, List.of(x), new Tensor[] {Tensor.ofFloats(new int[] {xs.length}, xs)});
            if (out == null || out[0].size() != xs.length || !out[0].isFloating()) {
                return null;
            }
            ys = out[0].floats();
        } catch (RuntimeException e) {
            return null;
        }
        // The closest known function within the tolerance, not the first: the erf and tanh forms of
        // Gelu differ by at most 5e-4, inside it, and each must keep its own name.
        String best = null;
        double bestError = Double.POSITIVE_INFINITY;
        for (OpTraits.Pattern p : OpTraits.patterns()) {
            double error = 0;
            for (int i = 0; i < xs.length && error <= MATCH_TOLERANCE; i++) {
                double want = p.function().applyAsDouble(xs[i]);
                error = Math.max(error, Math.abs(ys[i] - want) / Math.max(1, Math.abs(want)));
            }
            if (error <= MATCH_TOLERANCE && error < bestError) {
                best = p.name();
                bestError = error;
            }
        }
        return best;
    }

    private static boolean member(Node n) {
        return OpTraits.of(n.opType()).patternMember();
    }

    private static Set<String> runtimeInputs(Graph g, Node n) {
        Set<String> s = new LinkedHashSet<>();
        for (String i : n.inputs()) {
            if (!i.isEmpty() && !g.isConstant(i)) {
                s.add(i);
            }
        }
        return s;
    }

    private static boolean scalarConstants(Graph g, Node n) {
        for (String i : n.inputs()) {
            if (!i.isEmpty() && g.isConstant(i) && g.constant(i).size() != 1) {
                return false;
            }
        }
        return true;
    }

    private static double[] samples() {
        double[] s = new double[161];
        for (int i = 0; i < s.length; i++) {
            s[i] = -8 + i * 0.1;
        }
        return s;
    }
}
