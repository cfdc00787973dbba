package dev.layerprobe.dump;

import dev.layerprobe.core.tensor.CodeRuns;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.Npy;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Random access to the values of a dump directory's layers, a range of elements at a time, so a
 * comparison can walk a layer held on disk beside one arriving over the wire without loading either
 * whole. Reads go through the page cache (a dump just written is usually still there).
 *
 * <p>Values: a float32 layer gives its floats; a quantized layer (codes with scale and zero
 * point) gives {@code real = scale * (code - zero_point)}, per tensor or per channel along its
 * axis (tensor.proto's convention), and its codes on request. Not thread-safe: it reuses one
 * buffer.
 */
public final class DumpValues {
    private final DumpReader dump;
    private final Map<String, DumpManifest.Layer> layers = new LinkedHashMap<>();
    private ByteBuffer buf = ByteBuffer.allocate(0);

    private DumpValues(DumpReader dump) {
        this.dump = dump;
        for (DumpManifest.Layer l : dump.layers()) {
            layers.put(l.name(), l);
        }
    }

    public static DumpValues open(Path dir) throws IOException {
        return new DumpValues(DumpReader.open(dir));
    }

    /** The layer's entry, or null when the dump does not hold it. */
    public DumpManifest.Layer layer(String name) {
        return layers.get(name);
    }

    /**
     * Reads elements {@code [first, first + n)} of a layer.
     *
     * @param real receives the real values at {@code [0, n)}
     * @param codes receives the integer codes of a quantized layer at {@code [0, n)}; may be null
     */
    public void read(DumpManifest.Layer l, long first, int n, float[] real, int[] codes) throws IOException {
        DType type = l.type();
        int bytes = type.bytes();
        if (buf.capacity() < n * bytes) {
            buf = ByteBuffer.allocate(n * bytes);
        }
        ByteBuffer b = buf.clear().limit(n * bytes).order(ByteOrder.LITTLE_ENDIAN);
        Path file = dump.file(l);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long at = Npy.readHeader(file).dataOffset() + first * bytes;
            while (b.hasRemaining()) {
                if (ch.read(b, at + b.position()) < 0) {
                    throw new EOFException(file + " ends before element " + (first + n));
                }
            }
        }
        b.flip();
        decode(type, l.quantParams(), l.shape(), b, first, n, real, codes);
    }

    /** A whole layer as a float tensor of its real values, for code that needs one in memory. */
    public Tensor readWhole(DumpManifest.Layer l) throws IOException {
        long size = 1;
        for (int d : l.shape()) {
            size *= d;
        }
        float[] all = new float[Math.toIntExact(size)];
        int step = 1 << 18;
        float[] part = new float[(int) Math.min(step, size)];
        for (long first = 0; first < size; first += step) {
            int n = (int) Math.min(step, size - first);
            read(l, first, n, part, null);
            System.arraycopy(part, 0, all, (int) first, n);
        }
        return Tensor.ofFloats(l.shape(), all);
    }

    /**
     * Decodes {@code n} little-endian elements of {@code type} starting at element {@code first}
     * of a tensor of {@code shape}: real values, dequantized with {@code q} when it is not null, and
     * integer codes when {@code codes} is not null.
     */
    public static void decode(
            DType type, QuantParams q, int[] shape, ByteBuffer in, long first, int n, float[] real, int[] codes) {
        ByteBuffer b = in.order(ByteOrder.LITTLE_ENDIAN);
        if (type == DType.FLOAT32) {
            b.asFloatBuffer().get(real, 0, n);
            return;
        }
        int[] c = codes != null ? codes : new int[n];
        int at = b.position();
        // One loop per type, so each is a plain counted loop over the buffer.
        switch (type) {
            case INT8 -> {
                for (int i = 0; i < n; i++) {
                    c[i] = b.get(at + i);
                }
            }
            case UINT8 -> {
                for (int i = 0; i < n; i++) {
                    c[i] = b.get(at + i) & 0xff;
                }
            }
            case INT16 -> {
                for (int i = 0; i < n; i++) {
                    c[i] = b.getShort(at + 2 * i);
                }
            }
            case INT32 -> {
                for (int i = 0; i < n; i++) {
                    c[i] = b.getInt(at + 4 * i);
                }
            }
            default ->
                throw new IllegalArgumentException(
                        "cannot decode " + type + " values, expected one of [FLOAT32, INT8, UINT8, INT16, INT32]");
        }
        if (q == null) {
            for (int i = 0; i < n; i++) {
                real[i] = c[i];
            }
        } else {
            // The simulator's own rounding (CodeRuns), so equal codes give equal values.
            CodeRuns.best().dequantize(q, shape, first, c, 0, n, real, 0);
        }
    }
}
