package dev.layerprobe.dump;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.layerprobe.core.io.AtomicFiles;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.NpyWriter;
import dev.layerprobe.dump.npy.TensorBytes;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes a dump directory (docs/architecture.md#dumps-on-disk): one {@code .npy} per layer and a {@code manifest.json}
 * listing the layers in execution order. Layers stream in: {@link #beginLayer}, any number of
 * {@link #write} calls with C-order little-endian bytes, {@link #endLayer}. After every completed
 * layer the manifest is rewritten atomically (temporary file, then move), so a crash leaves a valid
 * manifest listing exactly the layers that are complete.
 *
 * <p>Quantized layers are stored as their integer codes (int8, uint8, int16) with scale and zero
 * point in the manifest; float layers as float32. File names are {@code NNNN_<name>.npy}, the index
 * in execution order followed by the layer name with every character outside
 * {@code [A-Za-z0-9._-]} replaced by {@code _}; the index makes them unique even when sanitised
 * names collide. Not thread-safe: one writer per stream of layers.
 */
public final class DumpWriter implements AutoCloseable {
    /** The manifest's file name inside a dump directory. */
    public static final String MANIFEST = "manifest.json";

    private static final int MAX_NAME_CHARS = 96;
    private static final int CHUNK_ELEMENTS = 1 << 18;

    private final Path dir;
    private final String model;
    private final String source;
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private final List<DumpManifest.Layer> layers = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private Open open;
    private boolean suspended;
    private boolean closed;

    private record Open(
            int index,
            String name,
            String op,
            int[] shape,
            DType dtype,
            QuantParams quant,
            String file,
            NpyWriter npy) {}

    private DumpWriter(Path dir, String model, String source) {
        this.dir = dir;
        this.model = model;
        this.source = source;
    }

    /**
     * Creates the directory if needed and writes an empty manifest.
     *
     * @param model what produced the dump, for the manifest (may be null)
     * @param source which result this is, e.g. "runtime" (may be null)
     * @param overwrite when the directory already holds a dump: true deletes its manifest and
     *     {@code .npy} files (nothing else), false fails
     */
    public static DumpWriter create(Path dir, String model, String source, boolean overwrite) throws IOException {
        Files.createDirectories(dir);
        if (Files.exists(dir.resolve(MANIFEST))) {
            if (!overwrite) {
                throw new IOException("dump directory " + dir + " already holds a dump (" + MANIFEST + ")");
            }
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.npy")) {
                for (Path p : s) {
                    Files.delete(p);
                }
            }
            Files.delete(dir.resolve(MANIFEST));
        }
        DumpWriter w = new DumpWriter(dir, model, source);
        w.writeManifest(false);
        return w;
    }

    /**
     * Opens a dump to continue it: the layers its manifest lists (complete ones) are kept and new
     * layers follow them; without a manifest the directory gets a fresh dump, as by {@link #create}.
     */
    public static DumpWriter resume(Path dir, String model, String source) throws IOException {
        if (!Files.exists(dir.resolve(MANIFEST))) {
            return create(dir, model, source, false);
        }
        DumpManifest m = DumpReader.open(dir).manifest();
        DumpWriter w = new DumpWriter(dir, model, source);
        for (DumpManifest.Layer l : m.layers()) {
            w.layers.add(l);
            w.names.add(l.name());
        }
        w.writeManifest(false);
        return w;
    }

    /**
     * Starts a layer.
     *
     * @param dtype FLOAT32 for a float layer; INT8, UINT8 or INT16 (codes) when {@code quant} is set
     * @param quant the codes' scale and zero point, or null for a float layer
     */
    public void beginLayer(String name, String op, int[] shape, DType dtype, QuantParams quant) throws IOException {
        start(name, op, shape, dtype, quant, false);
    }

    private NpyWriter start(String name, String op, int[] shape, DType dtype, QuantParams quant, boolean append)
            throws IOException {
        checkOpen();
        if (open != null) {
            throw new IllegalStateException("layer '" + open.name + "' is still open; call endLayer() first");
        }
        if (names.contains(name)) {
            throw new IllegalArgumentException("layer '" + name + "' is already in dump " + dir);
        }
        if (quant != null
                && dtype != DType.INT8
                && dtype != DType.UINT8
                && dtype != DType.INT16
                && dtype != DType.INT32) {
            throw new IllegalArgumentException("quantized layer '" + name + "' has dtype " + dtype
                    + ", expected one of [INT8, UINT8, INT16, INT32]");
        }
        if (quant != null && quant.type() != dtype) {
            throw new IllegalArgumentException(
                    "layer '" + name + "' has dtype " + dtype + " but its quantization is " + quant.type());
        }
        int index = layers.size();
        String file = fileName(index, name);
        NpyWriter npy = append
                ? NpyWriter.append(dir.resolve(file), dtype, shape)
                : NpyWriter.open(dir.resolve(file), dtype, shape);
        open = new Open(index, name, op, shape.clone(), dtype, quant, file, npy);
        return npy;
    }

    /**
     * As {@link #beginLayer}, but keeps what an interrupted writer left of this layer's file (see
     * {@link #suspendLayer()}), when its header matches.
     *
     * @return the data bytes the layer already holds; the next {@link #write} continues after them
     */
    public long resumeLayer(String name, String op, int[] shape, DType dtype, QuantParams quant) throws IOException {
        return start(name, op, shape, dtype, quant, true).written();
    }

    /**
     * Closes the open layer's file as it is, without adding it to the manifest, so that
     * {@link #resumeLayer} can continue it after an interruption.
     */
    public void suspendLayer() throws IOException {
        Open o = open;
        open = null;
        if (o != null) {
            o.npy.suspend();
            suspended = true;
        }
    }

    /**
     * Completes the open layer only if its data bytes hash to {@code expectedSha256}; otherwise
     * deletes its file and leaves the manifest as it was.
     *
     * @return the manifest entry, or null when the checksum did not match
     */
    public DumpManifest.Layer endLayer(String expectedSha256) throws IOException {
        Open o = requireLayer();
        try {
            o.npy.close();
        } catch (IOException e) {
            open = null;
            Files.deleteIfExists(dir.resolve(o.file));
            throw e;
        }
        if (!o.npy.sha256().equalsIgnoreCase(expectedSha256)) {
            open = null;
            Files.deleteIfExists(dir.resolve(o.file));
            return null;
        }
        return endLayer();
    }

    /** Appends data bytes of the open layer (C order, little-endian, in its dtype). */
    public void write(byte[] chunk) throws IOException {
        write(chunk, 0, chunk.length);
    }

    /** Appends {@code chunk[off, off+len)} to the open layer. */
    public void write(byte[] chunk, int off, int len) throws IOException {
        requireLayer().npy.write(chunk, off, len);
    }

    /** Appends float32 values to the open float layer. */
    public void writeFloats(float[] data, int off, int len) throws IOException {
        Open o = requireLayer();
        if (o.dtype != DType.FLOAT32) {
            throw new IllegalStateException("layer '" + o.name + "' holds " + o.dtype + ", not FLOAT32");
        }
        o.npy.write(TensorBytes.encodeFloats(data, off, len));
    }

    /** Appends integer codes to the open quantized layer. */
    public void writeCodes(int[] codes, int off, int len) throws IOException {
        Open o = requireLayer();
        o.npy.write(TensorBytes.encodeCodes(o.dtype, codes, off, len));
    }

    /**
     * Completes the open layer, adds it to the manifest and rewrites the manifest.
     *
     * @return the manifest entry
     * @throws IOException if fewer bytes were written than the shape needs (the layer is dropped)
     */
    public DumpManifest.Layer endLayer() throws IOException {
        Open o = requireLayer();
        open = null;
        o.npy.close();
        QuantParams q = o.quant;
        DumpManifest.Layer entry = new DumpManifest.Layer(
                o.index,
                o.name,
                o.op,
                o.shape,
                DumpManifest.dtypeName(o.dtype),
                q == null ? null : q.scale(),
                q == null ? null : q.zeroPoint(),
                q == null || q.isPerTensor() ? null : q.axis(),
                o.file,
                o.npy.written(),
                o.npy.sha256());
        layers.add(entry);
        names.add(o.name);
        writeManifest(false);
        return entry;
    }

    /** Drops the open layer, if any, deleting its partial file. */
    public void abortLayer() throws IOException {
        Open o = open;
        open = null;
        if (o != null) {
            try {
                o.npy.close();
            } catch (IOException expectedShort) {
                // A partial layer is short by definition; its file goes away below.
            }
            Files.deleteIfExists(dir.resolve(o.file));
        }
    }

    /** Writes a whole layer held in memory (a simulator or golden value). */
    public DumpManifest.Layer writeLayer(String name, String op, LayerValue v) throws IOException {
        if (v.isQuantized()) {
            QTensor q = v.codes();
            beginLayer(name, op, q.shape(), q.params().type(), q.params());
            int[] c = q.codes();
            for (int off = 0; off < c.length; off += CHUNK_ELEMENTS) {
                writeCodes(c, off, Math.min(CHUNK_ELEMENTS, c.length - off));
            }
        } else {
            Tensor t = v.real().toFloat();
            beginLayer(name, op, t.shape(), DType.FLOAT32, null);
            float[] f = t.floats();
            for (int off = 0; off < f.length; off += CHUNK_ELEMENTS) {
                writeFloats(f, off, Math.min(CHUNK_ELEMENTS, f.length - off));
            }
        }
        return endLayer();
    }

    /** The completed layers so far, in execution order. */
    public List<DumpManifest.Layer> layers() {
        return List.copyOf(layers);
    }

    public Path dir() {
        return dir;
    }

    /**
     * Drops an open layer and writes the final manifest with {@code complete = true} unless a layer
     * was still open or suspended (then the dump stays marked incomplete). Idempotent.
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        boolean partial = open != null || suspended;
        abortLayer();
        writeManifest(!partial);
        closed = true;
    }

    /** {@code NNNN_<sanitised name>.npy}. */
    static String fileName(int index, String name) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < name.length() && b.length() < MAX_NAME_CHARS; i++) {
            char c = name.charAt(i);
            b.append(
                    (c >= 'a' && c <= 'z')
                                    || (c >= 'A' && c <= 'Z')
                                    || (c >= '0' && c <= '9')
                                    || c == '.'
                                    || c == '_'
                                    || c == '-'
                            ? c
                            : '_');
        }
        // A leading dot would hide the file on Unix.
        String safe = b.length() == 0 ? "layer" : b.toString().replaceFirst("^\\.", "_");
        return String.format("%04d_%s.npy", index, safe);
    }

    private void writeManifest(boolean complete) throws IOException {
        DumpManifest m = new DumpManifest(DumpManifest.FORMAT_VERSION, model, source, complete, layers);
        AtomicFiles.write(dir.resolve(MANIFEST), out -> json.writeValue(out, m));
    }

    private Open requireLayer() {
        checkOpen();
        if (open == null) {
            throw new IllegalStateException("no layer is open; call beginLayer() first");
        }
        return open;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("dump writer for " + dir + " is closed");
        }
    }

    @Override
    public String toString() {
        return "DumpWriter(" + dir + ", " + layers.size() + " layers"
                + (open != null ? ", writing '" + open.name + "' " + Arrays.toString(open.shape) : "") + ")";
    }
}
