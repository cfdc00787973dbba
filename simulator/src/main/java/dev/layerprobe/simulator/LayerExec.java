package dev.layerprobe.simulator;

import dev.layerprobe.core.tensor.LayerValue;

/**
 * The compiled computation of one layer, bound to its constants (weights, quantization). Takes the
 * layer's runtime inputs in {@link Layer#inputs()} order and returns one value per output.
 * Stateless and thread-safe after compilation.
 */
@FunctionalInterface
public interface LayerExec {
    LayerValue[] run(LayerValue[] inputs);
}
