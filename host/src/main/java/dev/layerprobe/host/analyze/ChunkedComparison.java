package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.CodeRuns;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.dump.DumpWriter;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.simulator.Layer;
import java.io.IOException;

/**
 * A layer compared with a reference ({@link LayerRanges}: a dump on disk or values in memory) a
 * range of elements at a time: the one routine behind {@code entire} and {@code per_layer} (golden
 * against the simulator's values as the program produces them) and {@code simu_err} and
 * {@code golden_err} (the simulator and golden against the device's chunks as they stream in,
 * {@link StreamingComparison}). The reference is always the first side of the {@link Metrics};
 * element ranges are in the layer's C order, and a whole layer goes in steps of {@link #STEP}
 * elements wherever its reference is kept, so the sums are the same either way.
 *
 * <p>Holds one range of the dump and one of the values compared with it, never a whole layer, so an
 * analysis runs in bounded memory whatever the model. Not thread-safe: one per running input.
 */
final class ChunkedComparison {
    /** Elements per step when a whole layer is compared from disk. */
    static final int STEP = 1 << 18;

    private float[] reference = new float[0];
    private int[] referenceCodes = new int[0];
    private float[] values = new float[0];

    /**
     * Adds elements {@code [first, first + n)} of the dump's {@code layer} against {@code values[0, n)}
     * to {@code into}, and their integer codes against {@code codes[0, n)} when {@code codes} is not
     * null (both sides then share one quantization).
     *
     * @return the dump's values as read, valid until the next call; null when they were compared
     *     in place ({@link LayerRanges.Range#inMemory})
     */
    float[] addRange(LayerRanges.Range layer, long first, float[] values, int[] codes, int n, Metrics into)
            throws IOException {
        float[] inPlace = codes == null ? layer.inMemory() : null;
        if (inPlace != null) {
            into.add(inPlace, Math.toIntExact(first), values, 0, n);
            return null;
        }
        if (reference.length < n) {
            reference = new float[n];
            referenceCodes = new int[n];
        }
        layer.read(first, n, reference, codes == null ? null : referenceCodes);
        into.add(reference, 0, values, 0, n);
        if (codes != null) {
            into.addCodes(referenceCodes, codes, 0, n);
        }
        return reference;
    }

    /**
     * Adds a whole simulator value against the dump's {@code layer} to {@code into}, {@link #STEP}
     * elements at a time, and writes the dump's values as they are read to {@code copyTo} (when not
     * null), whose layer the caller has begun.
     */
    void addLayer(LayerRanges.Range layer, LayerValue v, Metrics into, DumpWriter copyTo) throws IOException {
        int size = size(v);
        for (int off = 0; off < size; off += STEP) {
            int n = Math.min(STEP, size - off);
            if (values.length < n) {
                values = new float[n];
            }
            realValues(v, off, n, values);
            float[] read = addRange(layer, off, values, null, n, into);
            if (copyTo != null) {
                if (read != null) {
                    copyTo.writeFloats(read, 0, n);
                } else {
                    copyTo.writeFloats(layer.inMemory(), off, n);
                }
            }
        }
    }

    /** Elements of a shape; a dump's or a device's shape is not checked for sense here. */
    static long elements(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** Fails when the reference's layer and the simulator's value differ in size. */
    static void checkSize(Layer layer, LayerRanges.Range reference, LayerValue v) {
        long n = elements(reference.shape());
        long m = size(v);
        if (n != m) {
            throw new IllegalStateException(
                    "layer '" + layer.name() + "': reference has " + n + " values, the other side " + m);
        }
    }

    private static int size(LayerValue v) {
        return v.codes() != null ? v.codes().size() : v.real().size();
    }

    /**
     * Real values {@code [off, off+n)} of a simulator value. Quantized values are dequantized a range
     * at a time rather than through {@link LayerValue#real()}, which would keep a float copy of the
     * whole layer for as long as the program holds the value.
     */
    static void realValues(LayerValue v, int off, int n, float[] out) {
        QTensor q = v.codes();
        if (q == null) {
            System.arraycopy(v.real().floats(), off, out, 0, n);
            return;
        }
        CodeRuns.best().dequantize(q.params(), q.shape(), off, q.codes(), off, n, out, 0);
    }
}
