package dev.layerprobe.simulator;

import dev.layerprobe.core.tensor.LayerValue;
import java.util.function.BiConsumer;

/**
 * The compiled computation of one layer, bound to its constants (weights, quantization). Takes the
 * layer's runtime inputs in {@link Layer#inputs()} order and returns one value per output.
 * Stateless and thread-safe after compilation.
 */
@FunctionalInterface
public interface LayerExec {
    LayerValue[] run(LayerValue[] inputs);

    /**
     * Runs the layer and hands {@code inner} the values its subgraphs compute, by tensor name (an If
     * layer's branch taken); a layer without subgraphs computes none.
     */
    default LayerValue[] run(LayerValue[] inputs, BiConsumer<String, LayerValue> inner) {
        return run(inputs);
    }
}
