package dev.layerprobe.dump.layout;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.dump.DumpManifest;
import dev.layerprobe.dump.DumpReader;
import dev.layerprobe.dump.DumpWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * LayerProbe's own layout (docs/architecture.md#dumps-on-disk, {@link DumpWriter}): {@code manifest.json} plus one
 * {@code .npy} per layer, quantized layers as codes with their scale and zero point. Also serves
 * plain {@code .npy} folders (name {@value #NPY}): one layer per file, in file-name order, named
 * after the file.
 */
public final class ManifestLayout implements DumpLayout {
    public static final String NAME = "layerprobe";
    public static final String NPY = "npy";
    private final boolean manifest;

    private ManifestLayout(boolean manifest) {
        this.manifest = manifest;
    }

    /** The layout with {@code manifest.json}. */
    public static ManifestLayout withManifest() {
        return new ManifestLayout(true);
    }

    /** A plain folder of {@code .npy} files. */
    public static ManifestLayout plainNpy() {
        return new ManifestLayout(false);
    }

    @Override
    public String name() {
        return manifest ? NAME : NPY;
    }

    @Override
    public boolean detect(Path dir) throws IOException {
        if (manifest) {
            return Files.isRegularFile(dir.resolve(DumpWriter.MANIFEST));
        }
        return Folders.fileNames(dir).stream().anyMatch(f -> f.endsWith(".npy"));
    }

    @Override
    public LayerDump open(Path dir, FixedPointOptions options) throws IOException {
        DumpReader reader = DumpReader.open(dir);
        List<DumpedLayer> layers = new ArrayList<>();
        for (DumpManifest.Layer l : reader.layers()) {
            layers.add(new DumpedLayer(layers.size(), l.name(), l.op(), l.shape(), false, l.file()));
        }
        List<DumpedLayer> all = List.copyOf(layers);
        String name = name();
        return new LayerDump() {
            @Override
            public String layout() {
                return name;
            }

            @Override
            public Path dir() {
                return dir;
            }

            @Override
            public List<DumpedLayer> layers() {
                return all;
            }

            @Override
            public LayerValue read(DumpedLayer layer) throws IOException {
                return reader.read(reader.layers().get(layer.index()));
            }
        };
    }
}
