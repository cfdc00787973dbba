package dev.layerprobe.dump;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.Npy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a dump directory back: the manifest written by {@link DumpWriter}, or, for a plain folder
 * of {@code .npy} files without one, a manifest made up from the files in name order (each a float
 * or integer layer named after its file). Tensors are read one at a time on demand. Immutable once
 * opened; safe to share between threads.
 */
public final class DumpReader {
    private final Path dir;
    private final DumpManifest manifest;
    private final Map<String, DumpManifest.Layer> byName = new LinkedHashMap<>();

    private DumpReader(Path dir, DumpManifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
        for (DumpManifest.Layer l : manifest.layers()) {
            byName.put(l.name(), l);
        }
    }

    /** Opens a dump directory; errors name the directory. */
    public static DumpReader open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "dump directory not found");
        }
        Path m = dir.resolve(DumpWriter.MANIFEST);
        if (Files.exists(m)) {
            ObjectMapper json = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
            try {
                return new DumpReader(dir, json.readValue(m.toFile(), DumpManifest.class));
            } catch (IOException e) {
                throw new IOException(
                        "cannot read " + m + ": "
                                + e.getMessage().lines().findFirst().orElse(""),
                        e);
            }
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.npy")) {
            s.forEach(files::add);
        }
        if (files.isEmpty()) {
            throw new IOException(dir + " is not a dump: no " + DumpWriter.MANIFEST + " and no .npy files");
        }
        files.sort(null);
        List<DumpManifest.Layer> layers = new ArrayList<>();
        for (Path f : files) {
            Npy.Header h = Npy.readHeader(f);
            String file = f.getFileName().toString();
            layers.add(new DumpManifest.Layer(
                    layers.size(),
                    file.substring(0, file.length() - 4),
                    null,
                    h.shape(),
                    DumpManifest.dtypeName(h.dtype()),
                    null,
                    null,
                    null,
                    file,
                    h.size() * h.dtype().bytes(),
                    null));
        }
        return new DumpReader(dir, new DumpManifest(DumpManifest.FORMAT_VERSION, null, null, true, layers));
    }

    public DumpManifest manifest() {
        return manifest;
    }

    /** Layers in execution order. */
    public List<DumpManifest.Layer> layers() {
        return manifest.layers();
    }

    /** The entry of a layer, or null if the dump does not hold it. */
    public DumpManifest.Layer layer(String name) {
        return byName.get(name);
    }

    public Path file(DumpManifest.Layer layer) {
        return dir.resolve(layer.file());
    }

    /**
     * Reads a layer: codes with their {@link QuantParams} for a quantized layer, a float tensor
     * otherwise.
     *
     * @throws IllegalArgumentException naming the layer and the known ones if it is not in the dump
     */
    public LayerValue read(String name) throws IOException {
        DumpManifest.Layer l = byName.get(name);
        if (l == null) {
            throw new IllegalArgumentException(
                    "layer '" + name + "' is not in dump " + dir + " (" + byName.size() + " layers"
                            + (byName.isEmpty()
                                    ? ""
                                    : ", e.g. '" + byName.keySet().iterator().next() + "'") + ")");
        }
        return read(l);
    }

    /** Reads a layer by its entry. */
    public LayerValue read(DumpManifest.Layer l) throws IOException {
        Tensor t = Npy.read(file(l));
        QuantParams q = l.quantParams();
        if (q == null) {
            return LayerValue.of(t.toFloat());
        }
        long[] v = t.longs();
        int[] codes = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            codes[i] = (int) v[i];
        }
        return LayerValue.of(new QTensor(t.shape(), codes, q));
    }

    /**
     * True when the data bytes of the layer's file hash to the manifest's sha256 (also true when
     * the manifest has none, as for a plain .npy folder).
     */
    public boolean verify(DumpManifest.Layer l) throws IOException {
        if (l.sha256() == null) {
            return true;
        }
        Path f = file(l);
        Npy.Header h = Npy.readHeader(f);
        try (InputStream in = Files.newInputStream(f)) {
            in.skipNBytes(h.dataOffset());
            return Sha256.hexOf(in).equals(l.sha256());
        }
    }

    public Path dir() {
        return dir;
    }
}
