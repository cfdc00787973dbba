package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.profile.RequantMode;

/** Conversions of layer values into the integer codes a quantized kernel expects. */
public final class QuantizedValues {
    private QuantizedValues() {}

    /**
     * The codes of a value in the given quantization: its own codes when they already use it, else
     * the real values quantized (what a device does when a producer ran on the CPU in float).
     */
    public static QTensor codesOf(LayerValue v, QuantParams q) {
        if (v.isQuantized() && v.codes().params().sameMapping(q)) {
            return v.codes();
        }
        return QTensor.quantize(v.real(), q);
    }

    /** Codes as float32 values, for running an exact data-movement float kernel on them. */
    public static Tensor codesAsFloats(QTensor t) {
        int[] c = t.codes();
        float[] f = new float[c.length];
        for (int i = 0; i < c.length; i++) {
            f[i] = c[i];
        }
        return Tensor.ofFloats(t.shape(), f);
    }

    /**
     * The inverse of {@link #codesAsFloats}. Data movement gives whole numbers, kept exactly;
     * resampling (linear, cubic) gives fractions, rounded half to even, as a fixed-point
     * interpolator with enough fraction bits does.
     */
    public static int[] floatsAsCodes(Tensor t) {
        float[] f = t.floats();
        int[] c = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            c[i] = (int) Math.rint(f[i]);
        }
        return c;
    }

    /**
     * Re-expresses per-tensor codes in another per-tensor quantization, in the integer domain:
     * {@code y = requant(x - zp_in, s_in / s_out) + zp_out}, clamped to [lo, hi].
     */
    public static int[] rescale(int[] codes, QuantParams in, QuantParams out, RequantMode mode, long lo, long hi) {
        int[] y = new int[codes.length];
        long zin = in.zeroPoint(0);
        long zout = out.zeroPoint(0);
        if (in.scale(0) == out.scale(0)) {
            for (int i = 0; i < y.length; i++) {
                long v = codes[i] - zin + zout;
                y[i] = (int) (v < lo ? lo : v > hi ? hi : v);
            }
            return y;
        }
        Requantizer r = new Requantizer((double) in.scale(0) / out.scale(0), mode, in.scale(0) / out.scale(0));
        // In chunks through the requantizer's row form: the same codes as r.apply element by element.
        long maxAbs = CodeRows.maxAbs(codes) + Math.abs(zin);
        long maxOut = r.scaledBound(maxAbs);
        int chunk = Math.min(y.length, 4096);
        long[] v = new long[chunk];
        int[] part = new int[chunk];
        for (int from = 0; from < y.length; from += chunk) {
            int to = Math.min(y.length, from + chunk);
            CodeRows.centred(codes, null, from, to, zin, v);
            r.scaleRow(v, to - from, maxAbs);
            Requantizer.toCodes(v, to - from, maxOut, zout, lo, hi, part);
            System.arraycopy(part, 0, y, from, to - from);
        }
        return y;
    }

    /** The code of a real bound in a quantization, clamped to the type's range (for fused clamps). */
    public static long boundCode(float real, QuantParams q, boolean lower) {
        if (Float.isInfinite(real)) {
            return lower ? q.qmin() : q.qmax();
        }
        return q.quantize(real, 0);
    }
}
