package dev.layerprobe.host.client;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.proto.v1.LayerHeader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link LayerSink} that assembles each layer in memory and hands it on decoded, for small models
 * and tests. Layers larger than a limit are refused (the run fails) rather than risking the heap;
 * stream large runs into a dump instead. Not thread-safe (sinks are called from one thread).
 */
public final class LayerCollector implements LayerSink {
    private final long maxLayerBytes;
    private final LayerValueSink onLayer;
    private final List<DecodedLayer> kept;
    private ByteArrayOutputStream buf;

    /** Keeps every layer; see {@link #layers()}. */
    public LayerCollector(long maxLayerBytes) {
        this.maxLayerBytes = maxLayerBytes;
        List<DecodedLayer> list = new ArrayList<>();
        this.kept = list;
        this.onLayer = (h, v) -> list.add(new DecodedLayer(h, v));
    }

    /** Passes each layer to {@code onLayer} as soon as it is complete and keeps nothing. */
    public LayerCollector(long maxLayerBytes, java.util.function.Consumer<DecodedLayer> onLayer) {
        this(maxLayerBytes, (LayerValueSink) (h, v) -> onLayer.accept(new DecodedLayer(h, v)));
    }

    /** Passes each layer to {@code onLayer} as soon as it is complete and keeps nothing. */
    public LayerCollector(long maxLayerBytes, LayerValueSink onLayer) {
        this.maxLayerBytes = maxLayerBytes;
        this.kept = null;
        this.onLayer = onLayer;
    }

    @Override
    public void begin(LayerHeader header) throws IOException {
        if (header.getSizeBytes() > maxLayerBytes) {
            throw new IOException(WireTensors.describe(header) + " is " + header.getSizeBytes() + " bytes, over the "
                    + maxLayerBytes + "-byte limit for decoding in memory");
        }
        buf = new ByteArrayOutputStream((int) Math.max(0, header.getSizeBytes()));
    }

    @Override
    public void chunk(LayerHeader header, long offset, byte[] data) throws IOException {
        if (buf.size() + (long) data.length > maxLayerBytes) {
            throw new IOException(WireTensors.describe(header) + " exceeds the " + maxLayerBytes
                    + "-byte limit for decoding in memory");
        }
        buf.write(data);
    }

    @Override
    public void end(LayerHeader header, String sha256) throws IOException {
        byte[] data = buf.toByteArray();
        buf = null;
        LayerValue value;
        try {
            value = WireTensors.toLayerValue(header, data);
        } catch (IllegalArgumentException e) {
            throw new IOException(WireTensors.describe(header) + ": " + e.getMessage(), e);
        }
        onLayer.accept(header, value);
    }

    /** The layers collected so far, in execution order; only for the keeping constructor. */
    public List<DecodedLayer> layers() {
        if (kept == null) {
            throw new IllegalStateException("this collector passes layers on and keeps none");
        }
        return List.copyOf(kept);
    }
}
