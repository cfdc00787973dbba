package dev.layerprobe.host.client;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.proto.v1.LayerHeader;

/**
 * A streamed layer decoded in memory: its header and its value (codes with quantization for a
 * quantized layer in NATIVE format, float32 otherwise). Immutable.
 */
public record DecodedLayer(LayerHeader header, LayerValue value) {
    public String name() {
        return header.getName();
    }
}
