package dev.layerprobe.host.client;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.proto.v1.LayerHeader;
import java.io.IOException;

/**
 * Receives whole decoded layers of a run, one at a time as each completes and passes its checksum
 * (codes with quantization for a quantized layer in NATIVE format, float32 otherwise). Called from
 * the thread that called {@link AgentClient#run}; an exception cancels the run.
 */
@FunctionalInterface
public interface LayerValueSink {
    void accept(LayerHeader header, LayerValue value) throws IOException;
}
