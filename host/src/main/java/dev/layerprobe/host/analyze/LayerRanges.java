package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.DumpManifest;
import dev.layerprobe.dump.DumpValues;
import java.io.IOException;
import java.util.Map;

/**
 * One input's layers as the comparisons read them, a range of elements at a time: from a dump on
 * disk (an input whose run does not fit in memory, or whose dumps are kept) or from the values
 * themselves in memory. Both give the same floats and codes for the same element: a dump holds
 * float32 values and integer codes exactly, and is dequantized with the same {@link QuantParams},
 * so where a run's values are kept does not change a comparison.
 */
interface LayerRanges {
    /** The layer of that name, or null when this side has none (or, for golden, none in floats). */
    Range layer(String name) throws IOException;

    /** One layer: its shape, its quantization, and its values a range at a time. */
    interface Range {
        int[] shape();

        /** The layer's quantization, or null for float values. */
        QuantParams quant();

        /**
         * Elements {@code [first, first + n)} as real values into {@code real[0, n)}, and their codes
         * into {@code codes[0, n)} when {@code codes} is not null and the layer is quantized.
         */
        void read(long first, int n, float[] real, int[] codes) throws IOException;

        /** The whole layer as a float tensor. */
        Tensor whole() throws IOException;

        /**
         * The layer's float32 values in memory (element i at index i) when it has them, to compare
         * in place; null when its values are read a range at a time (a dump, or codes).
         */
        default float[] inMemory() {
            return null;
        }
    }

    /** A dump's layers; with {@code floatsOnly}, only those stored as float32 (golden is compared in floats). */
    static LayerRanges of(DumpValues dump, boolean floatsOnly) {
        return name -> {
            DumpManifest.Layer l = dump.layer(name);
            if (l == null || (floatsOnly && !"float32".equals(l.dtype()))) {
                return null;
            }
            return new Range() {
                @Override
                public int[] shape() {
                    return l.shape();
                }

                @Override
                public QuantParams quant() {
                    return l.quantParams();
                }

                @Override
                public void read(long first, int n, float[] real, int[] codes) throws IOException {
                    dump.read(l, first, n, real, codes);
                }

                @Override
                public Tensor whole() throws IOException {
                    return dump.readWhole(l);
                }
            };
        };
    }

    /** Float tensors in memory, by name (golden's run). */
    static LayerRanges ofTensors(Map<String, Tensor> tensors) {
        return name -> {
            Tensor t = tensors.get(name);
            return t == null ? null : of(LayerValue.of(t));
        };
    }

    /** A value in memory: real values, or codes dequantized a range at a time. */
    static Range of(LayerValue v) {
        return new Range() {
            @Override
            public int[] shape() {
                return v.shape();
            }

            @Override
            public QuantParams quant() {
                return v.codes() == null ? null : v.codes().params();
            }

            @Override
            public void read(long first, int n, float[] real, int[] codes) {
                int off = Math.toIntExact(first);
                QTensor q = v.codes();
                if (q == null) {
                    // As a dump stores it: float32 (toFloat is the tensor itself when it holds floats).
                    System.arraycopy(v.real().toFloat().floats(), off, real, 0, n);
                    return;
                }
                ChunkedComparison.realValues(v, off, n, real);
                if (codes != null) {
                    System.arraycopy(q.codes(), off, codes, 0, n);
                }
            }

            @Override
            public Tensor whole() {
                return v.real();
            }

            @Override
            public float[] inMemory() {
                return v.codes() == null ? v.real().toFloat().floats() : null;
            }
        };
    }
}
