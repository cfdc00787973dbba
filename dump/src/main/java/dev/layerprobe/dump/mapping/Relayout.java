package dev.layerprobe.dump.mapping;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import java.util.Arrays;

/**
 * Gives a dumped layer the shape of the layer it is mapped to: a reshape when the element order
 * already agrees, a transpose from channels-last ({@code N,H,W,C}) to channels-first
 * ({@code N,C,H,W}) when the mapping says so. Codes stay codes. Stateless.
 */
public final class Relayout {
    private Relayout() {}

    /**
     * The value in the target's shape.
     *
     * @param nhwc   true to transpose from channels-last
     * @param target the target's shape (channels first), or null to keep the value's own
     * @throws IllegalArgumentException when the element counts differ
     */
    public static LayerValue toTarget(LayerValue v, int[] target, boolean nhwc, String what) {
        if (target == null) {
            return v;
        }
        long n = LayerMapper.size(target);
        int size = v.isQuantized() ? v.codes().size() : v.real().size();
        if (size != n) {
            throw new IllegalArgumentException(what + ": the dump holds " + size
                    + " values, the layer it maps to has shape " + Arrays.toString(target) + " (" + n + " values)");
        }
        if (v.isQuantized()) {
            QTensor q = v.codes();
            int[] codes = nhwc ? nhwcToNchw(q.codes(), target) : q.codes();
            QuantParams p = q.params();
            if (nhwc && !p.isPerTensor() && p.axis() == 3) {
                p = new QuantParams(p.type(), p.scale(), p.zeroPoint(), 1);
            }
            return LayerValue.of(new QTensor(target.clone(), codes, p));
        }
        Tensor t = v.real().toFloat();
        float[] f = t.floats();
        return LayerValue.of(Tensor.ofFloats(target.clone(), nhwc ? nhwcToNchw(f, target) : f));
    }

    static int[] nhwcToNchw(int[] src, int[] nchw) {
        int n = nchw[0], c = nchw[1], h = nchw[2], w = nchw[3];
        int[] dst = new int[src.length];
        for (int b = 0; b < n; b++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int from = ((b * h + y) * w + x) * c;
                    for (int k = 0; k < c; k++) {
                        dst[((b * c + k) * h + y) * w + x] = src[from + k];
                    }
                }
            }
        }
        return dst;
    }

    static float[] nhwcToNchw(float[] src, int[] nchw) {
        int n = nchw[0], c = nchw[1], h = nchw[2], w = nchw[3];
        float[] dst = new float[src.length];
        for (int b = 0; b < n; b++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int from = ((b * h + y) * w + x) * c;
                    for (int k = 0; k < c; k++) {
                        dst[((b * c + k) * h + y) * w + x] = src[from + k];
                    }
                }
            }
        }
        return dst;
    }
}
