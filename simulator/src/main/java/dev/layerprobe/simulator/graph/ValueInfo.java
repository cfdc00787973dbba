package dev.layerprobe.simulator.graph;

import dev.layerprobe.core.tensor.DType;

/** A graph input or output: its name, element type and shape (-1 for a dynamic dimension). */
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
