package dev.layerprobe.agent.backend;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import java.util.Map;

/**
 * Device-side isolation of a layer, implemented by the loaded models of backends that can run one
 * layer on inputs the host sends (those listing {@link Capability#RUN_LAYER}). A backend that cannot
 * simply does not implement it; the service answers UNIMPLEMENTED.
 */
public interface LayerIsolation {
    /**
     * Runs one layer, named by its ONNX output tensor, on its runtime inputs given as real values
     * (a quantized layer quantizes them with its input quantization on entry).
     */
    LayerValue runLayer(String layer, Map<String, Tensor> layerInputs) throws LayerProbeException;
}
