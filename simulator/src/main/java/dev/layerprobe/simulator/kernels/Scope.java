package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * What a control-flow kernel (If, Loop, Scan) sees of the run around it: the values of the
 * enclosing graphs, which its subgraphs may read by name (ONNX's outer scope), and a listener for
 * the values its subgraphs compute, through which a program reports the layers of an If branch.
 * Ordinary kernels ignore it.
 */
public interface Scope {
    /** No outer values, nothing listened to. */
    Scope NONE = name -> null;

    /** The value of a tensor of an enclosing graph, or null if there is none by that name. */
    Tensor value(String name);

    /** Called with the outputs of every node a subgraph runs, in execution order. */
    default void onValues(Node node, Tensor[] outputs) {}
}
