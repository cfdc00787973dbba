package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import java.util.stream.IntStream;

/**
 * Integer Gemm / fully connected layer: {@code Y[m,n] = requant(bias[n] + Σ_k (A[m,k] - zp_a)
 * (B[k,n] - zp_b[n]), s_a * s_b[n] / s_y) + zp_y}. B is held as [N, K] (transposed once at
 * compile time when the node has transB = 0); weights per output column n. Immutable.
 */
public final class QGemm {
    private final int[] bT;
    private final int[] bZero;
    private final int n;
    private final int k;
    private final long[] bias;
    private final Requantizer[] requant;
    private final QuantParams in;
    private final QuantParams out;
    private final long lo;
    private final long hi;
    private final boolean transA;
    /** Fault hook (profile fault accumulator_int16_wrap): the accumulator wraps at 16 bits. */
    private final boolean wrapInt16;

    /**
     * @param weightsNk weight codes laid out [N, K]
     * @param zeroPerN  weight zero point per output column
     */
    public QGemm(
            int[] weightsNk,
            int n,
            int k,
            int[] zeroPerN,
            long[] bias,
            Requantizer[] requant,
            QuantParams in,
            QuantParams out,
            long lo,
            long hi,
            boolean transA) {
        this(weightsNk, n, k, zeroPerN, bias, requant, in, out, lo, hi, transA, false);
    }

    /**
     * @param wrapInt16 emulate a device bug: the accumulator is cast to 16 bits ({@code (short)})
     *                  before requantization; false for the correct kernel
     */
    public QGemm(
            int[] weightsNk,
            int n,
            int k,
            int[] zeroPerN,
            long[] bias,
            Requantizer[] requant,
            QuantParams in,
            QuantParams out,
            long lo,
            long hi,
            boolean transA,
            boolean wrapInt16) {
        this.wrapInt16 = wrapInt16;
        this.bT = weightsNk;
        this.n = n;
        this.k = k;
        this.bZero = zeroPerN;
        this.bias = bias;
        this.requant = requant;
        this.in = in;
        this.out = out;
        this.lo = lo;
        this.hi = hi;
        this.transA = transA;
    }

    public QTensor run(QTensor a) {
        int[] as = a.shape();
        if (as.length != 2) {
            throw new IllegalArgumentException("Gemm input must be 2-D, got rank " + as.length);
        }
        int m = transA ? as[1] : as[0];
        int ka = transA ? as[0] : as[1];
        if (ka != k) {
            throw new IllegalArgumentException("Gemm input has K=" + ka + ", weights expect " + k);
        }
        int[] ac = a.codes();
        int za = (int) in.zeroPoint(0);
        long zy = out.zeroPoint(0);
        int[] y = new int[m * n];
        IntStream.range(0, m * n).parallel().forEach(idx -> {
            int i = idx / n;
            int j = idx % n;
            long acc = bias[j];
            int zb = bZero[j];
            for (int t = 0; t < k; t++) {
                int av = (transA ? ac[t * m + i] : ac[i * k + t]) - za;
                acc += (long) av * (bT[j * k + t] - zb);
            }
            y[idx] = requant[j].apply(wrapInt16 ? (short) acc : acc, zy, lo, hi);
        });
        return new QTensor(new int[] {m, n}, y, out);
    }
}
