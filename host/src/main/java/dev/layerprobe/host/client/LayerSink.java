package dev.layerprobe.host.client;

import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.RunSummary;
import java.io.IOException;

/**
 * Receives a run's layers as they stream in, so the caller can write dumps and compute metrics
 * without holding a whole run. For each layer, in execution order: {@link #begin}, zero or more
 * {@link #chunk} calls with consecutive bytes (C order, little-endian, in the header's dtype; see
 * tensor.proto), then {@link #end} once {@link AgentClient} has checked the layer's size and
 * sha256. A layer whose checksum fails never gets {@code end}: the run fails instead. Finally
 * {@link #summary}. All calls come from the thread that called {@link AgentClient#run}.
 *
 * <p>An exception thrown here cancels the run and surfaces as an {@link AgentException} with code
 * {@link AgentException.Code#SINK}.
 */
public interface LayerSink {
    /** A layer starts. */
    void begin(LayerHeader header) throws IOException;

    /**
     * The next bytes of the current layer.
     *
     * @param offset position of {@code data[0]} in the layer's bytes
     * @param data the bytes; the sink may keep the array
     */
    void chunk(LayerHeader header, long offset, byte[] data) throws IOException;

    /** The layer is complete and its bytes hash to {@code sha256} (lowercase hex). */
    void end(LayerHeader header, String sha256) throws IOException;

    /** The run is complete. */
    default void summary(RunSummary summary) throws IOException {}
}
