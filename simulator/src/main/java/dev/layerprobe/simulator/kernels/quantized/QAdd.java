package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.simulator.profile.RequantMode;
import dev.layerprobe.simulator.tensor.QTensor;
import dev.layerprobe.simulator.tensor.QuantParams;
import dev.layerprobe.simulator.tensor.Shapes;

/**
 * Integer Add (or Sub) of two per-tensor quantized inputs with different scales (numpy
 * broadcasting).
 * <ul>
 *   <li>FIXED: both inputs are shifted left by 20 bits, scaled to a common scale
 *       {@code 2 * max(s_a, s_b)} by fixed-point multipliers, added, and requantized to the output
 *       (the TFLite scheme NPUs follow).</li>
 *   <li>FLOAT: {@code y = rint((s_a/s_y)(a - zp_a) ± (s_b/s_y)(b - zp_b)) + zp_y} in float32, as
 *       ONNX Runtime's QLinearAdd computes it.</li>
 * </ul>
 * Immutable.
 */
public final class QAdd {
    private static final int LEFT_SHIFT = 20;
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

    public QAdd(QuantParams a, QuantParams b, QuantParams y, RequantMode mode, long lo, long hi, boolean subtract) {
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
        this.ry = new Requantizer(twiceMax / ((1 << LEFT_SHIFT) * (double) y.scale(0)), RequantMode.FIXED);
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
        if (mode == RequantMode.FLOAT) {
            float ka = qa.scale(0) / qy.scale(0);
            float kb = qb.scale(0) / qy.scale(0);
            for (int i = 0; i < size; i++) {
                float v = ka * (ac[ia == null ? i : ia[i]] - za) + sign * kb * (bc[ib == null ? i : ib[i]] - zb);
                long r = (long) Math.rint(v) + zy;
                y[i] = (int) (r < lo ? lo : r > hi ? hi : r);
            }
        } else {
            for (int i = 0; i < size; i++) {
                long sa = ra.scale((ac[ia == null ? i : ia[i]] - za) << LEFT_SHIFT);
                long sb = rb.scale((bc[ib == null ? i : ib[i]] - zb) << LEFT_SHIFT);
                y[i] = ry.apply(sa + sign * sb, zy, lo, hi);
            }
        }
        return new QTensor(shape, y, qy);
    }
}
