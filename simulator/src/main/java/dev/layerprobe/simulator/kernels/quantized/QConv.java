package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.graph.Node;
import java.util.stream.IntStream;

/**
 * Integer 2-D convolution (NCHW input codes, OIHW weight codes, grouped and depthwise):
 * {@code acc[c] = bias[c] + Σ (x - zp_x)(w - zp_w[c])} in 32-bit integers (64-bit where a
 * profile asks), then requantized per output channel by {@code s_x * s_w[c] / s_y} and clamped to
 * the output range narrowed by a fused activation. Padding contributes real zero, i.e. the code
 * {@code zp_x}. Immutable; runs output channels in parallel with per-element fixed order, so
 * results are deterministic.
 */
public final class QConv {
    private final Node node;
    private final int[] w;
    private final int[] wShape;
    private final int[] wZero;
    private final long[] bias;
    private final Requantizer[] requant;
    private final QuantParams in;
    private final QuantParams out;
    private final long lo;
    private final long hi;
    private final int group;
    /** Fault hook (profile fault accumulator_int16_wrap): the accumulator wraps at 16 bits. */
    private final boolean wrapInt16;

    /**
     * @param bias accumulator-unit bias per output channel (scale {@code s_x * s_w[c]})
     */
    public QConv(
            Node node,
            QTensor weights,
            long[] bias,
            Requantizer[] requant,
            QuantParams in,
            QuantParams out,
            long lo,
            long hi) {
        this(node, weights, bias, requant, in, out, lo, hi, false);
    }

    /**
     * @param wrapInt16 emulate a device bug: the accumulator is cast to 16 bits ({@code (short)})
     *                  before requantization; false for the correct kernel
     */
    public QConv(
            Node node,
            QTensor weights,
            long[] bias,
            Requantizer[] requant,
            QuantParams in,
            QuantParams out,
            long lo,
            long hi,
            boolean wrapInt16) {
        this.wrapInt16 = wrapInt16;
        this.node = node;
        this.w = weights.codes();
        this.wShape = weights.shape();
        int oc = wShape[0];
        this.wZero = new int[oc];
        for (int c = 0; c < oc; c++) {
            wZero[c] = (int) weights.params().zeroPoint(weights.params().isPerTensor() ? 0 : c);
        }
        this.bias = bias;
        this.requant = requant;
        this.in = in;
        this.out = out;
        this.lo = lo;
        this.hi = hi;
        this.group = (int) node.attrInt("group", 1);
        if (wShape.length != 4) {
            throw new IllegalArgumentException(
                    "quantized Conv supports 2-D kernels only, weight shape rank " + wShape.length);
        }
    }

    public QTensor run(QTensor x) {
        int[] xs = x.shape();
        if (xs.length != 4) {
            throw new IllegalArgumentException("Conv input must be NCHW, got rank " + xs.length);
        }
        int n = xs[0];
        int ic = xs[1];
        int ih = xs[2];
        int iw = xs[3];
        int oc = wShape[0];
        int icg = wShape[1];
        if (icg * group != ic) {
            throw new IllegalArgumentException("input has " + ic + " channels, weights expect " + icg * group);
        }
        ConvGeometry g = ConvGeometry.of(node, wShape[2], wShape[3], ih, iw);
        int oh = g.oh();
        int ow = g.ow();
        int[] codes = x.codes();
        int zx = (int) in.zeroPoint(0);
        int[] xc = new int[codes.length];
        for (int i = 0; i < xc.length; i++) {
            xc[i] = codes[i] - zx;
        }
        int ocg = oc / group;
        int[] y = new int[n * oc * oh * ow];
        long zy = out.zeroPoint(0);
        IntStream.range(0, n * oc).parallel().forEach(job -> {
            int b = job / oc;
            int o = job % oc;
            int gi = o / ocg;
            long[] acc = new long[oh * ow];
            java.util.Arrays.fill(acc, bias[o]);
            int wz = wZero[o];
            for (int c = 0; c < icg; c++) {
                int xBase = (b * ic + gi * icg + c) * ih * iw;
                for (int ky = 0; ky < g.kh(); ky++) {
                    for (int kx = 0; kx < g.kw(); kx++) {
                        int wv = w[((o * icg + c) * g.kh() + ky) * g.kw() + kx] - wz;
                        if (wv == 0) {
                            continue;
                        }
                        for (int r = 0; r < oh; r++) {
                            int yy = r * g.sh() - g.padTop() + ky * g.dh();
                            if (yy < 0 || yy >= ih) {
                                continue;
                            }
                            int rowX = xBase + yy * iw;
                            int rowA = r * ow;
                            int x0 = kx * g.dw() - g.padLeft();
                            for (int q = 0; q < ow; q++) {
                                int xx = q * g.sw() + x0;
                                if (xx >= 0 && xx < iw) {
                                    acc[rowA + q] += (long) wv * xc[rowX + xx];
                                }
                            }
                        }
                    }
                }
            }
            int yBase = (b * oc + o) * oh * ow;
            Requantizer rq = requant[o];
            for (int i = 0; i < acc.length; i++) {
                y[yBase + i] = rq.apply(wrapInt16 ? (short) acc[i] : acc[i], zy, lo, hi);
            }
        });
        return new QTensor(new int[] {n, oc, oh, ow}, y, out);
    }
}
