package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.profile.RequantMode;
import java.util.stream.IntStream;

/**
 * Integer Softmax of the emulated NPU, computed on codes as NPUs do:
 * <ul>
 *   <li>rows: before opset 13 the input coerced to 2-D at {@code axis} (default 1), the row being
 *       every element from that axis on; from opset 13 the elements along {@code axis} (default
 *       -1);</li>
 *   <li>per row, {@code d = max - x} in codes (0 for the largest), and
 *       {@code e = E[d]} from a table of one entry per possible code difference (256 for int8 and
 *       uint8, 65,536 for int16), {@code E[d] = round(2^16 * exp(-s_x * d))} in Q16 (the largest
 *       element's entry is exactly 2^16; entries that round to 0 stay 0);</li>
 *   <li>{@code S = Σ e} in 64-bit integers, one reciprocal per row {@code R = round(2^46 / S)}
 *       (Q30 once multiplied by a Q16 entry; {@code S >= 2^16}, so {@code R <= 2^30}), and the
 *       probability {@code p = (e * R + 2^15) >> 16} in Q30;</li>
 *   <li>{@code y = requant(p, 2^-30 / s_y) + zp_y}, clamped to the output type ({@link Requantizer},
 *       Q31 mantissa and shift, round half away from zero, in the profile's mode).</li>
 * </ul>
 * Against a float Softmax quantized afterwards it differs by at most one code on the element
 * (measured on random rows, {@code QSoftmaxTest}), from the Q16 entries next to a rounding
 * boundary. Immutable; rows run in parallel.
 *
 * <p>With the {@code softmax_no_max_subtract} fault the row maximum is not subtracted: the entry is
 * {@code min(round(2^16 * exp(s_x * (x - zp_x))), 2^31 - 1)}, one per input code, so logits above
 * {@code ln(2^15) / s_x} saturate to one value and share the probability evenly; a row whose
 * entries all underflow gives 0.
 */
public final class QSoftmax {
    /** Fraction bits of the exponential table. */
    static final int TABLE_BITS = 16;

    private static final int PROB_BITS = 30;

    private final QuantParams out;
    private final long axis;
    private final boolean coerce2d;
    private final long[] table;
    /** With the fault: the saturating exponential per input code (index {@code x - qmin}), else null. */
    private final long[] unshifted;

    private final long qminIn;
    private final Requantizer requant;

    /**
     * @param opset the model's ONNX opset (its Softmax's form)
     * @param axis  the node's axis attribute, or null for the default of that form
     */
    public QSoftmax(QuantParams in, QuantParams out, int opset, Long axis, RequantMode mode) {
        this(in, out, opset, axis, mode, false);
    }

    /**
     * @param noMaxSubtract the {@code softmax_no_max_subtract} fault: exponentiate the codes without
     *     subtracting the row maximum, saturating
     */
    public QSoftmax(QuantParams in, QuantParams out, int opset, Long axis, RequantMode mode, boolean noMaxSubtract) {
        this.out = out;
        this.qminIn = in.qmin();
        if (noMaxSubtract) {
            long[] u = new long[(int) (in.qmax() - in.qmin() + 1)];
            for (int i = 0; i < u.length; i++) {
                double e = Math.scalb(Math.exp(in.scale(0) * (i + in.qmin() - in.zeroPoint(0))), TABLE_BITS);
                u[i] = (long) Math.min(Math.rint(e), Integer.MAX_VALUE);
            }
            this.unshifted = u;
        } else {
            this.unshifted = null;
        }
        this.coerce2d = opset < 13;
        this.axis = axis != null ? axis : coerce2d ? 1 : -1;
        int entries = (int) (in.qmax() - in.qmin() + 1);
        long[] t = new long[entries];
        double s = in.scale(0);
        for (int d = 0; d < entries; d++) {
            t[d] = Math.round(Math.scalb(Math.exp(-s * d), TABLE_BITS));
            if (t[d] == 0) {
                break; // the rest underflow as well
            }
        }
        this.table = t;
        this.requant = new Requantizer(Math.scalb(1.0, -PROB_BITS) / out.scale(0), mode);
    }

    /** The table's entries (for tests and reports): {@code E[d]} in Q16. */
    public long entry(int d) {
        return table[d];
    }

    public QTensor run(QTensor x) {
        int[] shape = x.shape();
        int r = shape.length;
        int ax = (int) (axis < 0 ? axis + r : axis);
        if (ax < 0 || ax >= Math.max(r, 1)) {
            throw new IllegalArgumentException("Softmax axis " + axis + " out of range for rank " + r);
        }
        int outer = 1;
        for (int i = 0; i < ax; i++) {
            outer *= shape[i];
        }
        int len = 1;
        int inner = 1;
        if (coerce2d) {
            for (int i = ax; i < r; i++) {
                len *= shape[i];
            }
        } else {
            len = r == 0 ? 1 : shape[ax];
            for (int i = ax + 1; i < r; i++) {
                inner *= shape[i];
            }
        }
        int rowLen = len;
        int innerN = inner;
        int[] c = x.codes();
        int[] y = new int[c.length];
        long zy = out.zeroPoint(0);
        long lo = out.qmin();
        long hi = out.qmax();
        IntStream.range(0, outer * inner).parallel().forEach(job -> {
            int o = job / innerN;
            int base = o * rowLen * innerN + job % innerN;
            if (unshifted != null) {
                unshiftedRow(c, y, base, rowLen, innerN, zy, lo, hi);
                return;
            }
            int max = Integer.MIN_VALUE;
            for (int k = 0; k < rowLen; k++) {
                max = Math.max(max, c[base + k * innerN]);
            }
            long sum = 0;
            for (int k = 0; k < rowLen; k++) {
                sum += table[max - c[base + k * innerN]];
            }
            long recip = (1L << (PROB_BITS + TABLE_BITS)) / sum;
            long rem = (1L << (PROB_BITS + TABLE_BITS)) - recip * sum;
            if (2 * rem >= sum) {
                recip++; // rounded to nearest
            }
            for (int k = 0; k < rowLen; k++) {
                int i = base + k * innerN;
                long p = (table[max - c[i]] * recip + (1L << (TABLE_BITS - 1))) >> TABLE_BITS;
                y[i] = requant.apply(p, zy, lo, hi);
            }
        });
        return new QTensor(shape, y, out);
    }

    /** One row under the fault: the saturating exponentials of the codes, normalised as usual. */
    private void unshiftedRow(int[] c, int[] y, int base, int rowLen, int innerN, long zy, long lo, long hi) {
        long sum = 0;
        for (int k = 0; k < rowLen; k++) {
            sum += unshifted[(int) (c[base + k * innerN] - qminIn)];
        }
        long recip = sum == 0 ? 0 : Math.round(Math.scalb(1.0, PROB_BITS + TABLE_BITS) / sum);
        for (int k = 0; k < rowLen; k++) {
            int i = base + k * innerN;
            long p = (unshifted[(int) (c[i] - qminIn)] * recip + (1L << (TABLE_BITS - 1))) >> TABLE_BITS;
            y[i] = requant.apply(p, zy, lo, hi);
        }
    }
}
