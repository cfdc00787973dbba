package dev.layerprobe.dump.layout;

import dev.layerprobe.core.tensor.LayerValue;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** A {@link LayerDump} over a fixed list of layers, each read from its file by a layout's reader. */
final class SimpleDump implements LayerDump {
    @FunctionalInterface
    interface Reader {
        LayerValue read(DumpedLayer layer, Path file) throws IOException;
    }

    private final String layout;
    private final Path dir;
    private final List<DumpedLayer> layers;
    private final Reader reader;

    SimpleDump(String layout, Path dir, List<DumpedLayer> layers, Reader reader) {
        this.layout = layout;
        this.dir = dir;
        this.layers = List.copyOf(layers);
        this.reader = reader;
    }

    @Override
    public String layout() {
        return layout;
    }

    @Override
    public Path dir() {
        return dir;
    }

    @Override
    public List<DumpedLayer> layers() {
        return layers;
    }

    @Override
    public LayerValue read(DumpedLayer layer) throws IOException {
        return reader.read(layer, dir.resolve(layer.file()));
    }
}
