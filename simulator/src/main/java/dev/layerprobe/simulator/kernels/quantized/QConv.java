package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.graph.Node;
import java.util.stream.IntStream;

/**
 * Integer 2-D convolution (NCHW input codes, OIHW weight codes, grouped and depthwise):
 * {@code acc[c] = bias[c] + Σ (x - zp_x)(w - zp_w[c])}, the exact integer sum (what an NPU's int32
 * accumulator holds; 64-bit where int16 layers need it), then requantized per output channel by
 * {@code s_x * s_w[c] / s_y} ({@link Requantizer}) and clamped to the output range narrowed by a
 * fused activation. Padding contributes real zero, i.e. the code {@code zp_x}. The fault hook
 * accumulator_int16_wrap casts {@code acc} to 16 bits ({@code (short)}) before requantization.
 *
 * <p>How the sum is computed never changes it. When {@code K * max|x| * max|w - zp_w|} (K taps per
 * output) proves it fits in int32, it runs as an int32 matrix product of the centred weights and
 * the raw input codes over im2col rows, padding read as the code {@code zp_x}, with
 * {@code -zp_x * Σ (w - zp_w[c])} folded into the bias: the same integer
 * ({@link IntConvJob}: 1x1 convs read the input planes as they are, depthwise and KxK convs gather
 * their taps, small planes run transposed). Otherwise, as for int16 codes, the same product runs
 * with 64-bit sums, which equal the tap-by-tap 64-bit reference ({@link #runReference}) modulo
 * 2^64 and so always. Immutable; output elements are computed in parallel, each by one task, so
 * results are deterministic.
 */
public final class QConv {
    private final Node node;
    private final int[] w;
    private final int[] wShape;
    private final int[] wZero;
    /** {@code w - zp_w[c]}, output channel major. */
    private final int[] centred;
    /** Per group, {@code transposed[g][k][j] = centred[(g * ocg + j) * K + k]}: the transposed form's rows. */
    private final int[][][] transposed;
    /** {@code max |w - zp_w[c]|} over all channels. */
    private final long maxAbsWeight;
    /** {@code bias[c] - zp_x * Σ_k (w - zp_w[c])}: the bias of sums over raw input codes. */
    private final long[] rawBias;

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
        int depth = w.length / oc;
        this.centred = new int[w.length];
        long max = 0;
        for (int c = 0; c < oc; c++) {
            for (int k = 0; k < depth; k++) {
                int v = w[c * depth + k] - wZero[c];
                centred[c * depth + k] = v;
                max = Math.max(max, Math.abs((long) v));
            }
        }
        this.maxAbsWeight = max;
        this.rawBias = new long[oc];
        long zx = in.zeroPoint(0);
        for (int c = 0; c < oc; c++) {
            long sum = 0;
            for (int k = 0; k < depth; k++) {
                sum += centred[c * depth + k];
            }
            rawBias[c] = bias[c] - zx * sum;
        }
        int ocg = oc / group;
        this.transposed = new int[group][depth][ocg];
        for (int c = 0; c < oc; c++) {
            for (int k = 0; k < depth; k++) {
                transposed[c / ocg][k][c % ocg] = centred[c * depth + k];
            }
        }
    }

    public QTensor run(QTensor x) {
        return run(x, false);
    }

    /** The same codes as {@link #run}, always computed tap by tap with 64-bit sums: the reference for tests. */
    QTensor runReference(QTensor x) {
        return run(x, true);
    }

    private QTensor run(QTensor x, boolean reference) {
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
        int[] codes = x.codes();
        int[] y = new int[n * oc * g.oh() * g.ow()];
        long depth = (long) icg * g.kh() * g.kw();
        if (reference) {
            tapByTap(codes, n, ic, ih, iw, g, y);
        } else {
            long maxAbsX = Math.max(IntTiles.best().maxAbs(codes), Math.abs(in.zeroPoint(0)));
            // The sum of K products of at most maxAbsX * maxAbsWeight each: exact in int32 below
            // 2^31. 64-bit sums are the reference's modulo 2^64 whatever their size, so equal.
            long sumBound = CodeRows.boundProduct(depth, CodeRows.boundProduct(maxAbsX, maxAbsWeight));
            boolean wide = sumBound > Integer.MAX_VALUE;
            new IntConvJob(this, codes, (int) in.zeroPoint(0), n, ic, ih, iw, g, y, wide, sumBound).execute();
        }
        return new QTensor(new int[] {n, oc, g.oh(), g.ow()}, y, out);
    }

    int outChannels() {
        return wShape[0];
    }

    int inChannelsPerGroup() {
        return wShape[1];
    }

    int group() {
        return group;
    }

    /** {@code w - zp_w[c]}, output channel major, K per channel; not to be modified. */
    int[] centredWeights() {
        return centred;
    }

    /** Group g's centred weights as K rows over its output channels; not to be modified. */
    int[][] transposedWeights(int g) {
        return transposed[g];
    }

    /**
     * Output codes of channel o from int32 sums over raw input codes, without the bias (see
     * {@link Requantizer#applyRow}).
     */
    void requantizeRow(int o, int[] sums, int len, long[] wide, int[] codes) {
        requant[o].applyRow(sums, len, rawBias[o], wrapInt16, out.zeroPoint(0), lo, hi, wide, codes);
    }

    /**
     * Output codes of channel o from 64-bit sums over raw input codes, without the bias, given
     * {@code |sums[i]| <= sumBound} (overwrites sums).
     */
    void requantizeRowWide(int o, long[] sums, int len, long sumBound, int[] codes) {
        long b = rawBias[o];
        long maxAbs;
        if (wrapInt16) {
            for (int i = 0; i < len; i++) {
                sums[i] = (short) (sums[i] + b);
            }
            maxAbs = 1L << 15;
        } else {
            for (int i = 0; i < len; i++) {
                sums[i] += b;
            }
            maxAbs = b == Long.MIN_VALUE ? Long.MAX_VALUE : CodeRows.boundSum(Math.abs(b), sumBound);
        }
        requant[o].scaleRow(sums, len, maxAbs);
        Requantizer.toCodes(sums, len, requant[o].scaledBound(maxAbs), out.zeroPoint(0), lo, hi, codes);
    }

    /** The 64-bit path: per output channel, each tap's weight times the shifted centred input plane. */
    private void tapByTap(int[] codes, int n, int ic, int ih, int iw, ConvGeometry g, int[] y) {
        int zx = (int) in.zeroPoint(0);
        int[] xc = new int[codes.length];
        for (int i = 0; i < xc.length; i++) {
            xc[i] = codes[i] - zx;
        }
        int oc = wShape[0];
        int icg = wShape[1];
        int oh = g.oh();
        int ow = g.ow();
        int ocg = oc / group;
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
    }
}
