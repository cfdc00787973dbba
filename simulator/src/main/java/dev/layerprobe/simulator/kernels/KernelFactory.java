package dev.layerprobe.simulator.kernels;

import dev.layerprobe.simulator.graph.Node;

/** Builds the float kernel of one operator type for a node (reads and checks its attributes). */
@FunctionalInterface
public interface KernelFactory {
    /**
     * Builds the kernel of one node.
     *
     * @param node  the node, with its attributes
     * @param opset the model's opset for the node's domain, for operators whose defaults changed
     * @throws IllegalArgumentException when an attribute value is not supported; the message names it
     */
    FloatKernel create(Node node, int opset);
}
