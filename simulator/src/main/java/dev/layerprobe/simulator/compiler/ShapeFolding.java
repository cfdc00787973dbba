package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.Subgraphs;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.kernels.FloatKernels;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Graph pass: replaces Shape and Size nodes by INT64 constants when every graph input has a static
 * shape, then folds constants again, so the shape arithmetic PyTorch exports around Reshape
 * (Shape → Gather → Unsqueeze → Concat) leaves no layer behind. Runs after {@link ConstantFolding}
 * and after the caller's input shapes have been applied.
 *
 * <p>The shapes are learnt by running the nodes that feed Shape/Size inputs with the float kernels
 * on zero-filled inputs. A Shape/Size node is kept when its input's shape may depend on input
 * <em>values</em> (a Reshape, Slice, Expand, ... whose shape-giving input derives from graph input
 * data): zeros would give the wrong answer there. When an input's shape is not fully known (a
 * dimension {@code <= 0}, or rank 0, which the reader also uses for "no shape information"), or any
 * evaluated node fails, the graph is left as it is.
 */
final class ShapeFolding {
    /** Ops whose output shape is given by the values of their inputs after the first. */
    private static final Set<String> VALUE_SHAPED = Set.of(
            "Reshape",
            "Expand",
            "Tile",
            "Slice",
            "Pad",
            "Squeeze",
            "Unsqueeze",
            "Split",
            "TopK",
            "Resize",
            "Upsample",
            "ReduceMean",
            "ReduceSum",
            "ReduceMax",
            "ReduceMin",
            "ReduceProd",
            "ReduceL1",
            "ReduceL2",
            "ReduceLogSum",
            "ReduceLogSumExp",
            "ReduceSumSquare");
    /** Ops whose output shape is given by the values of all their inputs. */
    private static final Set<String> FULLY_VALUE_SHAPED = Set.of("ConstantOfShape", "Range");

    private ShapeFolding() {}

    static void run(Graph g) {
        List<Node> nodes = g.nodes();
        int last = -1;
        for (int i = 0; i < nodes.size(); i++) {
            if (isShapeOp(nodes.get(i))) {
                last = i;
            }
        }
        if (last < 0 || !allInputsStatic(g)) {
            return;
        }
        List<Node> prefix = new ArrayList<>(nodes.subList(0, last + 1));
        Set<String> dataShaped = dataShapedTensors(g, prefix);
        List<Node> folded = new ArrayList<>();
        for (Node n : prefix) {
            if (isShapeOp(n)
                    && n.hasInput(0)
                    && !dataShaped.contains(n.input(0))
                    && !g.outputs().contains(n.output(0))) {
                folded.add(n);
            }
        }
        if (folded.isEmpty()) {
            return;
        }
        Map<String, Tensor> values = evaluate(g, prefix, folded);
        if (values == null) {
            return;
        }
        for (Node n : folded) {
            g.constants().put(n.output(0), values.get(n.output(0)));
            g.nodes().remove(n);
        }
        ConstantFolding.run(g);
    }

    private static boolean isShapeOp(Node n) {
        return (n.opType().equals("Shape") || n.opType().equals("Size"))
                && n.outputs().size() == 1;
    }

    private static boolean allInputsStatic(Graph g) {
        for (ValueInfo v : g.inputs()) {
            if (v.shape().length == 0) {
                return false;
            }
            for (int d : v.shape()) {
                if (d <= 0) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Tensors whose shape may depend on graph input values. A value is data-derived when it reads a
     * graph input's values, or a tensor whose shape is data-dependent; Shape/Size outputs read only
     * a shape, so they are data-derived exactly when their input's shape is.
     */
    private static Set<String> dataShapedTensors(Graph g, List<Node> nodes) {
        Set<String> dataValued = new HashSet<>();
        g.inputs().forEach(v -> dataValued.add(v.name()));
        Set<String> dataShaped = new HashSet<>();
        for (Node n : nodes) {
            boolean valued;
            boolean shaped = false;
            if (isShapeOp(n)) {
                valued = dataShaped.contains(n.input(0));
            } else if (Subgraphs.has(n)) {
                // What a body computes from the values it reads is not tracked: assume the worst.
                valued = false;
                for (String in : n.inputs()) {
                    valued |= dataValued.contains(in) || dataShaped.contains(in);
                }
                for (String in : Subgraphs.outerReads(n)) {
                    valued |= dataValued.contains(in) || dataShaped.contains(in);
                }
                shaped = valued;
            } else {
                valued = false;
                for (int i = 0; i < n.inputs().size(); i++) {
                    String in = n.input(i);
                    boolean v = n.hasInput(i) && dataValued.contains(in);
                    boolean s = n.hasInput(i) && dataShaped.contains(in);
                    valued |= v || s;
                    shaped |= s
                            || (v
                                    && (FULLY_VALUE_SHAPED.contains(n.opType())
                                            || (i > 0 && VALUE_SHAPED.contains(n.opType()))));
                }
            }
            for (String out : n.outputs()) {
                if (valued) {
                    dataValued.add(out);
                }
                if (shaped) {
                    dataShaped.add(out);
                }
            }
        }
        return dataShaped;
    }

    /**
     * Runs, on zero-filled inputs, the nodes the folded Shape/Size nodes depend on (and those nodes);
     * null if a node fails.
     */
    private static Map<String, Tensor> evaluate(Graph g, List<Node> prefix, List<Node> targets) {
        Set<String> needed = new HashSet<>();
        targets.forEach(n -> needed.addAll(n.outputs()));
        Set<Node> run = new HashSet<>();
        for (int k = prefix.size() - 1; k >= 0; k--) {
            Node n = prefix.get(k);
            if (n.outputs().stream().anyMatch(needed::contains)) {
                run.add(n);
                needed.addAll(n.inputs());
                needed.addAll(Subgraphs.outerReads(n));
            }
        }
        Map<String, Tensor> env = new HashMap<>(g.constants());
        for (ValueInfo v : g.inputs()) {
            env.put(v.name(), zeros(v));
        }
        for (Node n : prefix) {
            if (!run.contains(n)) {
                continue;
            }
            Tensor[] in = new Tensor[n.inputs().size()];
            for (int i = 0; i < in.length; i++) {
                in[i] = n.hasInput(i) ? env.get(n.input(i)) : null;
            }
            try {
                Tensor[] out = FloatKernels.create(n, g.opset()).run(in, env::get);
                for (int i = 0; i < out.length && i < n.outputs().size(); i++) {
                    env.put(n.output(i), out[i]);
                }
            } catch (RuntimeException e) {
                // Not folded: the same error surfaces with the node's name when the layer runs.
                return null;
            }
        }
        return env;
    }

    private static Tensor zeros(ValueInfo v) {
        int n = Math.toIntExact(Shapes.size(v.shape()));
        return v.dtype().isFloating()
                ? Tensor.ofFloats(v.dtype(), v.shape(), new float[n])
                : Tensor.ofLongs(v.dtype(), v.shape(), new long[n]);
    }
}
