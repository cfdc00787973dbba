package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.Subgraphs;
import dev.layerprobe.simulator.kernels.FloatKernels;
import java.util.ArrayList;
import java.util.List;

/**
 * Graph pass: turns Constant nodes into constants, removes Identity and inference-mode Dropout,
 * and evaluates every node whose inputs are all constants (shape arithmetic, weight
 * pre-processing), as an NPU compiler does before it plans layers.
 */
final class ConstantFolding {
    private ConstantFolding() {}

    static void run(Graph g) {
        List<Node> nodes = new ArrayList<>(g.nodes());
        for (Node n : nodes) {
            if (n.opType().equals("Constant")) {
                Tensor v = constantValue(n);
                if (v != null) {
                    g.constants().put(n.output(0), v);
                    g.nodes().remove(n);
                }
                continue;
            }
            boolean passThrough = n.opType().equals("Identity")
                    || (n.opType().equals("Dropout") && n.outputs().size() == 1);
            if (passThrough && !g.outputs().contains(n.output(0))) {
                g.renameUses(n.output(0), n.input(0));
                g.nodes().remove(n);
                continue;
            }
            // Control-flow nodes stay: their bodies may read values of this graph, and are kept as written.
            if (allConstant(g, n)
                    && !Subgraphs.has(n)
                    && FloatKernels.supports(n.opType())
                    && !g.outputs().contains(n.output(0))) {
                try {
                    Tensor[] in = new Tensor[n.inputs().size()];
                    for (int i = 0; i < in.length; i++) {
                        in[i] = n.hasInput(i) ? g.constant(n.input(i)) : null;
                    }
                    Tensor[] out = FloatKernels.create(n, g.opset()).run(in);
                    for (int i = 0; i < out.length && i < n.outputs().size(); i++) {
                        g.constants().put(n.output(i), out[i]);
                    }
                    g.nodes().remove(n);
                } catch (RuntimeException e) {
                    // Left in the graph: the error surfaces with the node's name when the layer runs.
                }
            }
        }
        g.pruneConstants();
    }

    private static boolean allConstant(Graph g, Node n) {
        if (n.inputs().isEmpty()) {
            return false;
        }
        for (int i = 0; i < n.inputs().size(); i++) {
            if (n.hasInput(i) && !g.isConstant(n.input(i))) {
                return false;
            }
        }
        return true;
    }

    private static Tensor constantValue(Node n) {
        Attribute a;
        if ((a = n.attr("value")) != null && a.t() != null) {
            return a.t();
        }
        if ((a = n.attr("value_float")) != null) {
            return Tensor.scalar(a.f());
        }
        if ((a = n.attr("value_floats")) != null) {
            return Tensor.ofFloats(new int[] {a.floats().length}, a.floats().clone());
        }
        if ((a = n.attr("value_int")) != null) {
            return Tensor.ofLongs(DType.INT64, new int[0], new long[] {a.i()});
        }
        if ((a = n.attr("value_ints")) != null) {
            return Tensor.ofLongs(
                    DType.INT64, new int[] {a.ints().length}, a.ints().clone());
        }
        return null;
    }
}
