package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;

/**
 * What a control-flow kernel (If, Loop, Scan) sees of the run around it: the values of the
 * enclosing graphs, which its subgraphs may read by name (ONNX's outer scope). Ordinary kernels
 * ignore it.
 */
public interface Scope {
    /** No outer values. */
    Scope NONE = name -> null;

    /** The value of a tensor of an enclosing graph, or null if there is none by that name. */
    Tensor value(String name);
}
