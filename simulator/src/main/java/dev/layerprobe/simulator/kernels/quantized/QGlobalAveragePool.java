package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;

/**
 * Integer GlobalAveragePool over NCHW codes: per channel the 32-bit sum of {@code x - zp_x}, then
 * one requantization by {@code s_x / (H*W * s_y)} (the division rounds with the requantizer's
 * rounding mode). Immutable.
 */
public final class QGlobalAveragePool {
    private final QuantParams in;
    private final QuantParams out;
    private final dev.layerprobe.simulator.profile.RequantMode mode;
    private final long lo;
    private final long hi;
    private final int shiftDelta;

    public QGlobalAveragePool(
            QuantParams in, QuantParams out, dev.layerprobe.simulator.profile.RequantMode mode, long lo, long hi) {
        this(in, out, mode, lo, hi, 0);
    }

    /**
     * @param shiftDelta fault hook (requant_shift_off_by_one): extra right shift of the
     *                   requantization, 0 for the correct kernel
     */
    public QGlobalAveragePool(
            QuantParams in,
            QuantParams out,
            dev.layerprobe.simulator.profile.RequantMode mode,
            long lo,
            long hi,
            int shiftDelta) {
        this.shiftDelta = shiftDelta;
        this.in = in;
        this.out = out;
        this.mode = mode;
        this.lo = lo;
        this.hi = hi;
    }

    public QTensor run(QTensor x) {
        int[] s = x.shape();
        int nc = s[0] * s[1];
        int hw = 1;
        for (int i = 2; i < s.length; i++) {
            hw *= s[i];
        }
        double m = in.scale(0) / ((double) hw * out.scale(0));
        Requantizer r = new Requantizer(m, mode, in.scale(0) / (hw * out.scale(0)));
        if (shiftDelta != 0) {
            r = r.withShiftDelta(shiftDelta);
        }
        int[] c = x.codes();
        long zx = in.zeroPoint(0);
        long zy = out.zeroPoint(0);
        int[] y = new int[nc];
        for (int i = 0; i < nc; i++) {
            long sum = 0;
            for (int j = 0; j < hw; j++) {
                sum += c[i * hw + j] - zx;
            }
            y[i] = r.apply(sum, zy, lo, hi);
        }
        int[] shape = s.clone();
        for (int i = 2; i < shape.length; i++) {
            shape[i] = 1;
        }
        return new QTensor(shape, y, out);
    }
}
