package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.graph.Node;
import java.util.stream.IntStream;

/**
 * A quantized Conv layer that ONNX Runtime leaves unfused (DequantizeLinear → float Conv →
 * QuantizeLinear), reproduced bit for bit as ORT's CPU provider computes it with one intra-op
 * thread (MLAS {@code MlasConv}, GEMM-direct for 1x1 and im2col + SGEMM otherwise):
 * <ul>
 *   <li>inputs, weights and bias dequantized in float32: {@code (q - zp) * s};</li>
 *   <li>{@code C[oc, p] = Σ_k W[oc, k] X[k, p]} over {@code k = (c, ky, kx)} in the order of
 *       MLAS's SGEMM with B (the im2col matrix) packed per call, {@link OrtSgemm}; padding
 *       contributes 0;</li>
 *   <li>{@code y = C + bias}; {@code code = rint(y / s_y) + zp_y} clamped (a fused Relu/Clip is a
 *       clamp of the codes, as quantization is monotone).</li>
 * </ul>
 * Groups other than 1 run per group with the same summation, which is how MLAS's generic path
 * computes them (its specialised depthwise float kernel is not reproduced). Immutable.
 */
public final class OrtFloatConv {
    private final Node node;
    private final float[] w;
    private final int[] wShape;
    private final float[] bias;
    private final QuantParams in;
    private final QuantParams out;
    private final long lo;
    private final long hi;
    private final int group;

    /**
     * @param bias the float32 bias per output channel as ORT dequantizes it, or null
     */
    public OrtFloatConv(Node node, QTensor weights, float[] bias, QuantParams in, QuantParams out, long lo, long hi) {
        this.node = node;
        this.wShape = weights.shape();
        if (wShape.length != 4) {
            throw new IllegalArgumentException("Conv supports 2-D kernels only, weight shape rank " + wShape.length);
        }
        int oc = wShape[0];
        int per = weights.size() / oc;
        QuantParams wq = weights.params();
        this.w = new float[weights.size()];
        int[] c = weights.codes();
        for (int o = 0; o < oc; o++) {
            int ch = wq.isPerTensor() ? 0 : o;
            float s = wq.scale(ch);
            long z = wq.zeroPoint(ch);
            for (int i = 0; i < per; i++) {
                w[o * per + i] = (float) (c[o * per + i] - z) * s;
            }
        }
        this.bias = bias;
        this.in = in;
        this.out = out;
        this.lo = lo;
        this.hi = hi;
        this.group = (int) node.attrInt("group", 1);
    }

    public QTensor run(QTensor x) {
        int[] xs = x.shape();
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
        int hw = g.oh() * g.ow();
        int k = icg * g.kh() * g.kw();
        float sx = in.scale(0);
        long zx = in.zeroPoint(0);
        int[] codes = x.codes();
        float[] xf = new float[codes.length];
        for (int i = 0; i < xf.length; i++) {
            xf[i] = (float) (codes[i] - zx) * sx;
        }
        int ocg = oc / group;
        int[] y = new int[n * oc * hw];
        if (group == 1) {
            for (int b = 0; b < n; b++) {
                int batch = b;
                float[] col = im2col(xf, g, b * ic * ih * iw, icg, ih, iw);
                IntStream.range(0, oc).parallel().forEach(o -> outputRow(col, o, k, hw, y, (batch * oc + o) * hw));
            }
        } else {
            IntStream.range(0, n * group).parallel().forEach(job -> {
                int b = job / group;
                int gi = job % group;
                float[] col = im2col(xf, g, (b * ic + gi * icg) * ih * iw, icg, ih, iw);
                for (int o = gi * ocg; o < (gi + 1) * ocg; o++) {
                    outputRow(col, o, k, hw, y, (b * oc + o) * hw);
                }
            });
        }
        return new QTensor(new int[] {n, oc, g.oh(), g.ow()}, y, out);
    }

    /**
     * The im2col matrix of one group of one sample, [k = (c, ky, kx)][output pixel], 0 where the
     * kernel reads padding; a 1x1 kernel with unit strides and no padding reads the input as is.
     */
    private static float[] im2col(float[] xf, ConvGeometry g, int xBase, int channels, int ih, int iw) {
        int oh = g.oh();
        int ow = g.ow();
        int hw = oh * ow;
        if (isIdentityGather(g, ih, iw)) {
            return java.util.Arrays.copyOfRange(xf, xBase, xBase + channels * hw);
        }
        int kk = g.kh() * g.kw();
        float[] col = new float[channels * kk * hw];
        for (int c = 0; c < channels; c++) {
            int plane = xBase + c * ih * iw;
            for (int ky = 0; ky < g.kh(); ky++) {
                for (int kx = 0; kx < g.kw(); kx++) {
                    int rowBase = ((c * g.kh() + ky) * g.kw() + kx) * hw;
                    for (int r = 0; r < oh; r++) {
                        int yy = r * g.sh() - g.padTop() + ky * g.dh();
                        if (yy < 0 || yy >= ih) {
                            continue;
                        }
                        for (int q = 0; q < ow; q++) {
                            int xx = q * g.sw() - g.padLeft() + kx * g.dw();
                            if (xx >= 0 && xx < iw) {
                                col[rowBase + r * ow + q] = xf[plane + yy * iw + xx];
                            }
                        }
                    }
                }
            }
        }
        return col;
    }

    private static boolean isIdentityGather(ConvGeometry g, int ih, int iw) {
        return g.kh() == 1
                && g.kw() == 1
                && g.sh() == 1
                && g.sw() == 1
                && g.padTop() == 0
                && g.padLeft() == 0
                && g.oh() == ih
                && g.ow() == iw;
    }

    /** Output channel o over every pixel: the product in MLAS's order, the bias, the output codes. */
    private void outputRow(float[] col, int o, int k, int hw, int[] y, int yBase) {
        float[] c = new float[hw];
        OrtSgemm.row(w, o * k, 1, col, 0, hw, k, hw, OrtSgemm.strideK(hw, k), c, 0, new float[hw]);
        float sy = out.scale(0);
        long zy = out.zeroPoint(0);
        float bo = bias == null ? 0f : bias[o];
        for (int p = 0; p < hw; p++) {
            float v = bias == null ? c[p] : c[p] + bo;
            long r = (long) Math.rint(v / sy) + zy;
            y[yBase + p] = (int) (r < lo ? lo : r > hi ? hi : r);
        }
    }
}
