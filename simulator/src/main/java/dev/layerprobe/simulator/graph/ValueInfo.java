package dev.layerprobe.simulator.graph;

import dev.layerprobe.core.tensor.DType;

/**
 * A graph input or output: its name, element type and shape (-1 for a dynamic dimension). In a
 * subgraph, the type and the shape are null where the file leaves them open.
 */
public record ValueInfo(String name, DType dtype, int[] shape) {
    public boolean isDynamic() {
        for (int d : shape) {
            if (d < 0) {
                return true;
            }
        }
        return false;
    }
}
