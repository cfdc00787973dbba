package dev.layerprobe.dump.layout;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A way per-layer tensors are laid out in a folder: LayerProbe's own, plain {@code .npy}, or a
 * vendor runtime's. One implementation per layout; {@link DumpLayouts} lists them and detects which
 * one a folder uses. Implementations are stateless and thread-safe.
 */
public interface DumpLayout {

    /** The name a user chooses the layout by, e.g. {@code tidl}. */
    String name();

    /** True when the folder's contents look like this layout (only file names are looked at). */
    boolean detect(Path dir) throws IOException;

    /**
     * Opens a folder in this layout.
     *
     * @throws IOException naming the folder or file when it is not a readable dump of this layout
     */
    LayerDump open(Path dir, FixedPointOptions options) throws IOException;
}
