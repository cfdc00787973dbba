package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.simulator.profile.RequantMode;

/**
 * Integer Add (or Sub) of two per-tensor quantized inputs with different scales (numpy
 * broadcasting).
 * <ul>
 *   <li>FIXED: both inputs are shifted left by 20 bits, scaled to a common scale
 *       {@code 2 * max(s_a, s_b)} by fixed-point multipliers, added, and requantized to the output
 *       (the TFLite scheme NPUs follow).</li>
 *   <li>FLOAT, Add: as ONNX Runtime's QLinearAdd (MLAS AVX2 kernel) computes it, in float32 on
 *       the raw codes: {@code k_a = s_a/s_y}, {@code k_b = s_b/s_y},
 *       {@code c = zp_y - (k_a*zp_a + k_b*zp_b)}, {@code y = rint(fma(a, k_a, fma(b, k_b, c)))}
 *       saturated (a scalar input is folded into {@code c} by a plain multiply and add).</li>
 *   <li>FLOAT, Sub (ORT has no QLinearSub), and Add where ORT leaves it unfused: DequantizeLinear,
 *       the float op, QuantizeLinear, all in float32:
 *       {@code y = rint(((a - zp_a) s_a ± (b - zp_b) s_b) / s_y) + zp_y}.</li>
 * </ul>
 * Immutable.
 */
public final class QAdd {
    private static final int LEFT_SHIFT = 20;
    /** Elements per chunk of the FIXED row loops: their scratch rows stay in L1/L2. */
    private static final int ROW = 4096;

    private final QuantParams qa;
    private final QuantParams qb;
    private final QuantParams qy;
    private final RequantMode mode;
    private final long lo;
    private final long hi;
    private final int sign;
    private final Requantizer ra;
    private final Requantizer rb;
    private final Requantizer ry;
    private final boolean viaFloat;
    /** Fault hook (requant_shift_off_by_one): extra right shift of the output scaling, 0 if correct. */
    private final int shiftDelta;

    public QAdd(QuantParams a, QuantParams b, QuantParams y, RequantMode mode, long lo, long hi, boolean subtract) {
        this(a, b, y, mode, lo, hi, subtract, false);
    }

    /**
     * @param viaFloat in FLOAT mode, compute as ORT does when it leaves the Add unfused:
     *                 DequantizeLinear, float Add, QuantizeLinear (ignored in FIXED mode)
     */
    public QAdd(
            QuantParams a,
            QuantParams b,
            QuantParams y,
            RequantMode mode,
            long lo,
            long hi,
            boolean subtract,
            boolean viaFloat) {
        this(a, b, y, mode, lo, hi, subtract, viaFloat, 0);
    }

    /**
     * @param shiftDelta fault hook (requant_shift_off_by_one): the output scaling shifted right by
     *                   this many extra bits (the result scaled by 2^-shiftDelta); 0 for the
     *                   correct kernel
     */
    public QAdd(
            QuantParams a,
            QuantParams b,
            QuantParams y,
            RequantMode mode,
            long lo,
            long hi,
            boolean subtract,
            boolean viaFloat,
            int shiftDelta) {
        this.shiftDelta = shiftDelta;
        this.viaFloat = viaFloat;
        this.qa = a;
        this.qb = b;
        this.qy = y;
        this.mode = mode;
        this.lo = lo;
        this.hi = hi;
        this.sign = subtract ? -1 : 1;
        double twiceMax = 2.0 * Math.max(a.scale(0), b.scale(0));
        this.ra = new Requantizer(a.scale(0) / twiceMax, RequantMode.FIXED);
        this.rb = new Requantizer(b.scale(0) / twiceMax, RequantMode.FIXED);
        Requantizer r = new Requantizer(twiceMax / ((1 << LEFT_SHIFT) * (double) y.scale(0)), RequantMode.FIXED);
        this.ry = shiftDelta == 0 ? r : r.withShiftDelta(shiftDelta);
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
        if (mode == RequantMode.FLOAT && (sign < 0 || viaFloat)) {
            // ORT has no QLinearSub, and leaves some Adds unfused: DequantizeLinear, Add/Sub and
            // QuantizeLinear in float32.
            float sa = qa.scale(0);
            float sb = qb.scale(0);
            float sy = shiftDelta == 0 ? qy.scale(0) : Math.scalb(qy.scale(0), shiftDelta);
            for (int i = 0; i < size; i++) {
                float da = (ac[ia == null ? i : ia[i]] - za) * sa;
                float db = (bc[ib == null ? i : ib[i]] - zb) * sb;
                long r = (long) Math.rint((sign < 0 ? da - db : da + db) / sy) + zy;
                y[i] = (int) (r < lo ? lo : r > hi ? hi : r);
            }
        } else if (mode == RequantMode.FLOAT) {
            // MLAS QLinearAdd (AVX2 kernel, also used on AVX-512 machines): the zero points are folded
            // into one float constant, then per element two fused multiply-adds on the raw codes.
            float ka = qa.scale(0) / qy.scale(0);
            float kb = qb.scale(0) / qy.scale(0);
            if (shiftDelta != 0) {
                ka = Math.scalb(ka, -shiftDelta);
                kb = Math.scalb(kb, -shiftDelta);
            }
            float fixed = (float) zy - (ka * za + kb * zb);
            boolean scalarA = ac.length == 1 && size > 1;
            boolean scalarB = bc.length == 1 && size > 1 && !scalarA;
            if (scalarA) {
                fixed = fixed + ac[0] * ka;
            } else if (scalarB) {
                fixed = fixed + bc[0] * kb;
            }
            for (int i = 0; i < size; i++) {
                float v;
                if (scalarA) {
                    v = Math.fma((float) bc[ib == null ? i : ib[i]], kb, fixed);
                } else if (scalarB) {
                    v = Math.fma((float) ac[ia == null ? i : ia[i]], ka, fixed);
                } else {
                    v = Math.fma((float) bc[ib == null ? i : ib[i]], kb, fixed);
                    v = Math.fma((float) ac[ia == null ? i : ia[i]], ka, v);
                }
                long r = (long) Math.rint(v);
                y[i] = (int) (r < lo ? lo : r > hi ? hi : r);
            }
        } else {
            fixedPoint(ac, ia, za, bc, ib, zb, y);
        }
        return new QTensor(shape, y, qy);
    }

    /**
     * FIXED: {@code y = ry(ra((a - za) << 20) ± rb((b - zb) << 20))}, zero point and clamp, in
     * chunks of rows through {@link Requantizer#scaleRow} (the same values as element by element).
     */
    private void fixedPoint(int[] ac, int[] ia, long za, int[] bc, int[] ib, long zb, int[] y) {
        long maxA = (CodeRows.maxAbs(ac) + Math.abs(za)) << LEFT_SHIFT;
        long maxB = (CodeRows.maxAbs(bc) + Math.abs(zb)) << LEFT_SHIFT;
        long maxSum = CodeRows.boundSum(ra.scaledBound(maxA), rb.scaledBound(maxB));
        long maxOut = ry.scaledBound(maxSum);
        int chunk = Math.min(y.length, ROW);
        long[] sa = new long[chunk];
        long[] sb = new long[chunk];
        int[] codes = new int[chunk];
        for (int from = 0; from < y.length; from += chunk) {
            int to = Math.min(y.length, from + chunk);
            int n = to - from;
            CodeRows.centred(ac, ia, from, to, za, sa);
            CodeRows.centred(bc, ib, from, to, zb, sb);
            for (int i = 0; i < n; i++) {
                sa[i] <<= LEFT_SHIFT;
            }
            for (int i = 0; i < n; i++) {
                sb[i] <<= LEFT_SHIFT;
            }
            ra.scaleRow(sa, n, maxA);
            rb.scaleRow(sb, n, maxB);
            if (sign < 0) {
                for (int i = 0; i < n; i++) {
                    sa[i] -= sb[i];
                }
            } else {
                for (int i = 0; i < n; i++) {
                    sa[i] += sb[i];
                }
            }
            ry.scaleRow(sa, n, maxSum);
            Requantizer.toCodes(sa, n, maxOut, qy.zeroPoint(0), lo, hi, codes);
            System.arraycopy(codes, 0, y, from, n);
        }
    }
}
