package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.profile.RequantMode;
import java.util.stream.IntStream;

/**
 * A quantized MatMul of two activations as ONNX Runtime's CPU provider computes it once it has
 * fused DequantizeLinear ×2 → MatMul → QuantizeLinear into QLinearMatMul (both inputs and the
 * output int8, or all uint8; int8 pairs run as uint8 with zero points + 128, the same numbers),
 * reproduced for the {@code requant: float} cross-check:
 * <ul>
 *   <li>{@code acc[m, n] = Σ_k (A[m, k] - zp_a) (B[k, n] - zp_b)}, exact in 32-bit integers (MLAS's
 *       integer GEMM, exact on CPUs with VNNI or on ARM; see {@code OrtInt8} in the host tests);</li>
 *   <li>{@code y = rint((float) acc * M) + zp_y} saturated to the type, with
 *       {@code M = (s_a * s_b) / s_y} in float32 (MLAS's requantization, {@link Requantizer} in
 *       {@link RequantMode#FLOAT});</li>
 *   <li>numpy MatMul shapes: 1-D operands promoted and the added dimension removed, leading batch
 *       dimensions broadcast.</li>
 * </ul>
 * A float MatMul of the dequantized values, quantized afterwards, differs from this by one code
 * where the float sum lands next to a rounding boundary. Immutable; output rows are computed in
 * parallel, each by one task.
 */
public final class OrtQLinearMatMul {
    private final QuantParams aq;
    private final QuantParams bq;
    private final QuantParams out;
    private final Requantizer requant;

    public OrtQLinearMatMul(QuantParams a, QuantParams b, QuantParams out) {
        this.aq = a;
        this.bq = b;
        this.out = out;
        float m = (a.scale(0) * b.scale(0)) / out.scale(0);
        this.requant = new Requantizer((double) a.scale(0) * b.scale(0) / out.scale(0), RequantMode.FLOAT, m);
    }

    public QTensor run(QTensor a, QTensor b) {
        int[] as = a.shape();
        int[] bs = b.shape();
        MatMulShape sh = MatMulShape.of(as, bs);
        int m = sh.m();
        int k = sh.k();
        int n = sh.n();
        int batches = sh.batches();
        int za = (int) aq.zeroPoint(0);
        int zb = (int) bq.zeroPoint(0);
        int[] ac = a.codes();
        int[] bc = b.codes();
        long zy = out.zeroPoint(0);
        long lo = out.qmin();
        long hi = out.qmax();
        int[] y = new int[batches * m * n];
        IntStream.range(0, batches * m).parallel().forEach(job -> {
            int bi = job / m;
            int i = job % m;
            int aBase = sh.aRow(bi, i);
            int bBase = sh.bMatrix(bi);
            int[] acc = new int[n];
            for (int t = 0; t < k; t++) {
                int av = ac[aBase + t] - za;
                int row = bBase + t * n;
                for (int j = 0; j < n; j++) {
                    acc[j] += av * (bc[row + j] - zb);
                }
            }
            int yBase = job * n;
            for (int j = 0; j < n; j++) {
                y[yBase + j] = requant.apply(acc[j], zy, lo, hi);
            }
        });
        return new QTensor(sh.outShape(), y, out);
    }
}
