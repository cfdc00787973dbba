package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import java.util.stream.IntStream;

/**
 * Integer Gemm / fully connected layer: {@code Y[m,n] = requant(bias[n] + Σ_k (A[m,k] - zp_a)
 * (B[k,n] - zp_b[n]), s_a * s_b[n] / s_y) + zp_y}. B is held as [N, K] (transposed once at
 * compile time when the node has transB = 0); weights per output column n. The sum is the exact
 * integer: when {@code K * max|A| * max|B - zp_b|} proves it fits in int32 it runs as int32 rows
 * over n ({@link IntGemmLoops}) on raw A codes with {@code -zp_a * Σ_k (B - zp_b[n])} folded into
 * the bias, as {@link QConv} does; otherwise element by element in 64 bits
 * ({@link #runReference}). Immutable.
 */
public final class QGemm {
    /** Below this many multiply-adds the rows run on the calling thread alone. */
    private static final long PARALLEL_MACS = 1L << 18;

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
    /** {@code B[k][n] - zp_b[n]} as K rows over n. */
    private final int[][] centredRows;
    /** {@code bias[n] - zp_a * Σ_k (B[k][n] - zp_b[n])}: the bias of sums over raw A codes. */
    private final long[] rawBias;

    private final long maxAbsB;

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
        this.centredRows = new int[k][n];
        this.rawBias = new long[n];
        long za = in.zeroPoint(0);
        long max = 0;
        for (int j = 0; j < n; j++) {
            long sum = 0;
            for (int t = 0; t < k; t++) {
                int v = weightsNk[j * k + t] - zeroPerN[j];
                centredRows[t][j] = v;
                sum += v;
                max = Math.max(max, Math.abs((long) v));
            }
            rawBias[j] = bias[j] - za * sum;
        }
        this.maxAbsB = max;
    }

    public QTensor run(QTensor a) {
        return run(a, false);
    }

    /** The same codes as {@link #run}, always element by element with 64-bit sums: the reference for tests. */
    QTensor runReference(QTensor a) {
        return run(a, true);
    }

    private QTensor run(QTensor a, boolean reference) {
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
        long maxA = reference ? 0 : Math.max(CodeRows.maxAbs(ac), Math.abs(in.zeroPoint(0)));
        int[] y = reference || (long) k * maxA * maxAbsB > Integer.MAX_VALUE ? elementwise(ac, m) : byRows(ac, m);
        return new QTensor(new int[] {m, n}, y, out);
    }

    /** Per row of A, the int32 sums over all n as one vector loop per four k. */
    private int[] byRows(int[] ac, int m) {
        int[] y = new int[m * n];
        long zy = out.zeroPoint(0);
        IntStream rows = IntStream.range(0, m);
        if ((long) m * n * k >= PARALLEL_MACS) {
            rows = rows.parallel();
        }
        rows.forEach(i -> {
            int[] row = ac;
            int off = i * k;
            if (transA) {
                row = new int[k];
                for (int t = 0; t < k; t++) {
                    row[t] = ac[t * m + i];
                }
                off = 0;
            }
            int[] acc = new int[n];
            IntGemmLoops.multiply(row, off, centredRows, 0, k, 0, n, acc, false);
            for (int j = 0; j < n; j++) {
                long sum = rawBias[j] + acc[j];
                y[i * n + j] = requant[j].apply(wrapInt16 ? (short) sum : sum, zy, lo, hi);
            }
        });
        return y;
    }

    private int[] elementwise(int[] ac, int m) {
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
        return y;
    }
}
