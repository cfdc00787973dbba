package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import java.util.List;

/**
 * The common end of the folding passes: a node takes new constants (folded weights, bias) and
 * absorbs the node after it, taking that node's output name so the layer keeps the ONNX name of
 * its last output, and listing it among the nodes it covers.
 */
final class Absorption {
    private Absorption() {}

    /** Adds a constant under a name derived from {@code base} that no constant uses yet; returns the name. */
    static String addConstant(Graph g, String base, Tensor value) {
        String name = base;
        for (int i = 1; g.isConstant(name); i++) {
            name = base + "_" + i;
        }
        g.constants().put(name, value);
        return name;
    }

    /** Sets input {@code index} of the node, appending when it has fewer inputs (an omitted optional bias). */
    static void setInput(Node n, int index, String tensor) {
        List<String> in = n.inputs();
        while (in.size() < index) {
            in.add("");
        }
        if (in.size() > index) {
            in.set(index, tensor);
        } else {
            in.add(tensor);
        }
    }

    /** {@code n} takes over {@code next}'s output and covers it; {@code next} leaves the graph. */
    static void absorb(Graph g, Node n, Node next) {
        n.outputs().set(0, next.output(0));
        n.covers().add(next.name());
        g.nodes().remove(next);
    }
}
