package dev.layerprobe.dump.layout;

import dev.layerprobe.core.tensor.LayerValue;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A dump folder opened by one {@link DumpLayout}: its layers in execution order, read one at a time
 * on demand, so a whole run is never held in memory. Float layers read back as float32 tensors;
 * fixed-point layers as their integer codes with the scale and zero point the layout (or the
 * {@link FixedPointOptions}) gives them: codes stay codes. Implementations are immutable once opened
 * and thread-safe.
 */
public interface LayerDump {

    /** The layout's name, e.g. {@code rknn-runtime}. */
    String layout();

    /** The folder. */
    Path dir();

    /** Layers in execution order. */
    List<DumpedLayer> layers();

    /**
     * Reads a layer. A layer whose dump records no shape comes back flat (one dimension), to be
     * given its shape by the mapping.
     *
     * @throws IOException naming the file when it is missing, short or malformed
     */
    LayerValue read(DumpedLayer layer) throws IOException;
}
