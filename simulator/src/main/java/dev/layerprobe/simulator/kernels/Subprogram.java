package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A subgraph compiled to float kernels: the branch of an If, the body of a Loop or Scan. It runs
 * its nodes in order on its inputs; a value it neither computes nor receives is read from the
 * enclosing run's {@link Scope}.
 * Immutable and thread-safe: each run has its own values.
 */
final class Subprogram {
    private final Graph graph;
    private final FloatKernel[] kernels;

    private Subprogram(Graph graph, FloatKernel[] kernels) {
        this.graph = graph;
        this.kernels = kernels;
    }

    /** The subgraph attribute {@code name} of a control-flow node, compiled. */
    static Subprogram of(Node node, String name) {
        Attribute a = node.attr(name);
        if (a == null || a.kind() != Attribute.Kind.GRAPH) {
            throw new IllegalArgumentException("graph attribute '" + name + "' is missing");
        }
        Graph g = a.g();
        FloatKernel[] kernels = new FloatKernel[g.nodes().size()];
        for (int i = 0; i < kernels.length; i++) {
            Node n = g.nodes().get(i);
            if (!n.domain().isEmpty() && !n.domain().equals("ai.onnx")) {
                throw new IllegalArgumentException(
                        name + ": node '" + n.name() + "' (" + n.domain() + "." + n.opType() + ") has no kernel");
            }
            try {
                kernels[i] = FloatKernels.create(n, g.opset());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
            }
        }
        return new Subprogram(g, kernels);
    }

    int inputCount() {
        return graph.inputs().size();
    }

    int outputCount() {
        return graph.outputs().size();
    }

    String inputName(int i) {
        return graph.inputs().get(i).name();
    }

    /** Runs the subgraph on its inputs (by position), with the enclosing run's values in scope. */
    Tensor[] run(Tensor[] inputs, Scope outer) {
        Map<String, Tensor> env = new HashMap<>(graph.constants());
        for (int i = 0; i < inputs.length && i < graph.inputs().size(); i++) {
            env.put(graph.inputs().get(i).name(), inputs[i]);
        }
        Scope scope = name -> {
            Tensor t = env.get(name);
            return t != null ? t : outer.value(name);
        };
        List<Node> nodes = graph.nodes();
        for (int k = 0; k < nodes.size(); k++) {
            Node n = nodes.get(k);
            Tensor[] in = new Tensor[n.inputs().size()];
            for (int i = 0; i < in.length; i++) {
                in[i] = n.hasInput(i) ? require(scope, n.input(i), n) : null;
            }
            Tensor[] out = kernels[k].run(in, scope);
            for (int i = 0; i < out.length && i < n.outputs().size(); i++) {
                if (!n.output(i).isEmpty()) {
                    env.put(n.output(i), out[i]);
                }
            }
        }
        Tensor[] out = new Tensor[graph.outputs().size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = require(scope, graph.outputs().get(i), null);
        }
        return out;
    }

    private Tensor require(Scope scope, String name, Node reader) {
        Tensor t = scope.value(name);
        if (t == null) {
            throw new IllegalArgumentException("subgraph '" + graph.name() + "': "
                    + (reader == null ? "output" : reader + " reads") + " '" + name
                    + "', which neither the subgraph nor an enclosing graph computes");
        }
        return t;
    }
}
