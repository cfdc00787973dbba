package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import java.util.stream.IntStream;

/**
 * A quantized Conv layer that ONNX Runtime leaves unfused (DequantizeLinear → float Conv →
 * QuantizeLinear), reproduced bit for bit as ORT's CPU provider computes it with one intra-op
 * thread (MLAS {@code MlasConv}, GEMM-direct for 1x1 and im2col + SGEMM otherwise):
 * <ul>
 *   <li>inputs, weights and bias dequantized in float32: {@code (q - zp) * s};</li>
 *   <li>{@code C[oc, p] = Σ_k W[oc, k] X[k, p]} over {@code k = (c, ky, kx)} as MLAS's SGEMM sums:
 *       K split in slices of {@code StrideK} (128, halved while K is small against N, doubled
 *       while N is small), each slice a sequential chain of fused multiply-adds from 0, the slices
 *       added to C in order; padding contributes 0;</li>
 *   <li>{@code y = C + bias}; {@code code = rint(y / s_y) + zp_y} clamped (a fused Relu/Clip is a
 *       clamp of the codes, as quantization is monotone).</li>
 * </ul>
 * Groups other than 1 run per group with the same summation, which is how MLAS's generic path
 * computes them (its specialised depthwise float kernel is not reproduced). Immutable.
 */
public final class OrtFloatConv {
    private static final int SGEMM_STRIDE_N = 128;
    private static final int SGEMM_STRIDE_K = 128;

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

    /** MLAS's K slice for an SGEMM of N columns and depth K (see MlasSgemmOperation). */
    static int strideK(int n, int k) {
        int strideN = SGEMM_STRIDE_N;
        int strideK = SGEMM_STRIDE_K;
        if (n >= k) {
            while (strideK / 2 >= k) {
                strideN *= 2;
                strideK /= 2;
            }
        } else {
            while (strideN > 16 && strideN / 2 >= n) {
                strideK *= 2;
                strideN /= 2;
            }
        }
        return strideK;
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
        int oh = g.oh();
        int ow = g.ow();
        int hw = oh * ow;
        int kk = g.kh() * g.kw();
        int k = icg * kk;
        int strideK = strideK(hw, k);
        float sx = in.scale(0);
        long zx = in.zeroPoint(0);
        int[] codes = x.codes();
        float[] xf = new float[codes.length];
        for (int i = 0; i < xf.length; i++) {
            xf[i] = (float) (codes[i] - zx) * sx;
        }
        // im2col offsets per (kernel element, output pixel): -1 marks padding.
        int[] col = new int[kk * hw];
        for (int ky = 0; ky < g.kh(); ky++) {
            for (int kx = 0; kx < g.kw(); kx++) {
                int e = ky * g.kw() + kx;
                for (int r = 0; r < oh; r++) {
                    int yy = r * g.sh() - g.padTop() + ky * g.dh();
                    for (int q = 0; q < ow; q++) {
                        int xx = q * g.sw() - g.padLeft() + kx * g.dw();
                        col[e * hw + r * ow + q] = yy < 0 || yy >= ih || xx < 0 || xx >= iw ? -1 : yy * iw + xx;
                    }
                }
            }
        }
        int ocg = oc / group;
        float sy = out.scale(0);
        long zy = out.zeroPoint(0);
        int[] y = new int[n * oc * hw];
        IntStream.range(0, n * oc).parallel().forEach(job -> {
            int b = job / oc;
            int o = job % oc;
            int gi = o / ocg;
            int wBase = o * k;
            int xBase = (b * ic + gi * icg) * ih * iw;
            float[] acc = new float[hw];
            float[] c = new float[hw];
            for (int k0 = 0; k0 < k; k0 += strideK) {
                int k1 = Math.min(k, k0 + strideK);
                java.util.Arrays.fill(acc, 0f);
                for (int t = k0; t < k1; t++) {
                    float wv = w[wBase + t];
                    int ch = t / kk;
                    int e = t % kk;
                    int chBase = xBase + ch * ih * iw;
                    int colBase = e * hw;
                    for (int p = 0; p < hw; p++) {
                        int off = col[colBase + p];
                        float xv = off < 0 ? 0f : xf[chBase + off];
                        acc[p] = Math.fma(wv, xv, acc[p]);
                    }
                }
                if (k0 == 0) {
                    System.arraycopy(acc, 0, c, 0, hw);
                } else {
                    for (int p = 0; p < hw; p++) {
                        c[p] = c[p] + acc[p];
                    }
                }
            }
            float bo = bias == null ? 0f : bias[o];
            int yBase = (b * oc + o) * hw;
            for (int p = 0; p < hw; p++) {
                float v = bias == null ? c[p] : c[p] + bo;
                long r = (long) Math.rint(v / sy) + zy;
                y[yBase + p] = (int) (r < lo ? lo : r > hi ? hi : r);
            }
        });
        return new QTensor(new int[] {n, oc, oh, ow}, y, out);
    }
}
