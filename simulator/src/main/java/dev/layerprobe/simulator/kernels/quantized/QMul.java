package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.simulator.profile.RequantMode;

/**
 * Integer elementwise Mul of two per-tensor quantized inputs (numpy broadcasting), e.g. the
 * channel attention of squeeze-and-excitation blocks:
 * {@code y = requant((a - zp_a)(b - zp_b), s_a * s_b / s_y) + zp_y}, the product exact in 64 bits,
 * the requantization as the profile says (see {@link Requantizer}). Immutable.
 */
public final class QMul {
    /** Elements per chunk of the row loops: their scratch rows stay in L1/L2. */
    private static final int ROW = 4096;

    private final QuantParams qa;
    private final QuantParams qb;
    private final QuantParams qy;
    private final Requantizer requant;
    private final long lo;
    private final long hi;

    public QMul(QuantParams a, QuantParams b, QuantParams y, RequantMode mode, long lo, long hi) {
        this(a, b, y, mode, lo, hi, 0);
    }

    /**
     * @param shiftDelta fault hook (requant_shift_off_by_one): extra right shift of the
     *                   requantization, 0 for the correct kernel
     */
    public QMul(QuantParams a, QuantParams b, QuantParams y, RequantMode mode, long lo, long hi, int shiftDelta) {
        this.qa = a;
        this.qb = b;
        this.qy = y;
        this.lo = lo;
        this.hi = hi;
        double m = (double) a.scale(0) * b.scale(0) / y.scale(0);
        Requantizer r = new Requantizer(m, mode, (a.scale(0) * b.scale(0)) / y.scale(0));
        this.requant = shiftDelta == 0 ? r : r.withShiftDelta(shiftDelta);
    }

    public QTensor run(QTensor a, QTensor b) {
        int[] shape = Shapes.broadcast(a.shape(), b.shape());
        int size = Math.toIntExact(Shapes.size(shape));
        int[] ia = BroadcastIndex.map(a.shape(), shape);
        int[] ib = BroadcastIndex.map(b.shape(), shape);
        int[] ac = a.codes();
        int[] bc = b.codes();
        long za = qa.zeroPoint(0);
        long zb = qb.zeroPoint(0);
        long zy = qy.zeroPoint(0);
        int[] y = new int[size];
        // In chunks of rows through Requantizer.scaleRow: the same values as element by element.
        long maxProduct = CodeRows.boundProduct(CodeRows.maxAbs(ac) + Math.abs(za), CodeRows.maxAbs(bc) + Math.abs(zb));
        long maxOut = requant.scaledBound(maxProduct);
        int chunk = Math.min(size, ROW);
        long[] pa = new long[chunk];
        long[] pb = new long[chunk];
        int[] codes = new int[chunk];
        for (int from = 0; from < size; from += chunk) {
            int to = Math.min(size, from + chunk);
            int n = to - from;
            CodeRows.centred(ac, ia, from, to, za, pa);
            CodeRows.centred(bc, ib, from, to, zb, pb);
            for (int i = 0; i < n; i++) {
                pa[i] *= pb[i];
            }
            requant.scaleRow(pa, n, maxProduct);
            Requantizer.toCodes(pa, n, maxOut, zy, lo, hi, codes);
            System.arraycopy(codes, 0, y, from, n);
        }
        return new QTensor(shape, y, qy);
    }
}
