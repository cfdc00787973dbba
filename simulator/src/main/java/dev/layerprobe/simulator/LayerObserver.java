package dev.layerprobe.simulator;

import dev.layerprobe.core.tensor.LayerValue;

/**
 * Receives each layer's output as soon as it is produced, in execution order, on the thread that
 * runs the program. Values are immutable and may be kept; an observer that throws aborts the run.
 */
@FunctionalInterface
public interface LayerObserver {
    LayerObserver NONE = (layer, value) -> {};

    void onLayer(Layer layer, LayerValue value);
}
