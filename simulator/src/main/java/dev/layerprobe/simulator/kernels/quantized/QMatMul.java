package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Integer MatMul of the emulated NPU, in two forms:
 * <ul>
 *   <li><b>activation by constant</b> (a linear layer): B is a [K, N] weight of codes, symmetric per
 *       output channel (the last axis of B, zero point {@code zp_b[n]}, normally 0), A is per
 *       tensor; an optional bias per output column is held in accumulator units
 *       ({@code s_a * s_b[n]}, int32 codes as for Gemm);</li>
 *   <li><b>activation by activation</b> (Q·Kᵀ, attention·V): both operands per tensor.</li>
 * </ul>
 * {@code acc[.., m, n] = bias[n] + Σ_k (A[.., m, k] - zp_a)(B[.., k, n] - zp_b[n])} in 32-bit
 * integers (64-bit for int16 operands), then one requantization per output column by
 * {@code s_a * s_b[n] / s_y} ({@link Requantizer}: Q31 mantissa and shift, round half away from
 * zero in {@code fixed} mode), plus {@code zp_y}, clamped to the output range narrowed by a fused
 * activation. Shapes follow ONNX MatMul (numpy): 1-D operands promoted and the added dimension
 * removed, leading batch dimensions broadcast. Immutable; output rows run in parallel, each with a
 * fixed summation order, so results are deterministic.
 *
 * <p>With the {@code matmul_transpose_b} fault B is read transposed: for B of logical shape
 * {@code [..., K, N]} stored row-major, element {@code (k, n)} of each matrix is read at flat offset
 * {@code n * K + k} of that matrix instead of {@code k * N + n}, as if the buffer held {@code Bᵀ}
 * ({@code [N, K]}) row-major. Everything else stays: the zero point, scale and bias of output column
 * {@code n} apply to the codes read for column {@code n}. The read is the same for a vector B
 * ({@code K} or {@code N} is 1) and for a symmetric square one.
 */
public final class QMatMul {
    private final QuantParams aq;
    private final QuantParams bq;
    private final QuantParams out;
    /** Constant B codes [K, N] as the kernel reads them (re-laid under the fault), or null for two activations. */
    private final int[] weights;

    /** The {@code matmul_transpose_b} fault: B read as if its buffer held Bᵀ. */
    private final boolean transposedB;

    private final int[] weightShape;
    private final long[] bias;
    private final Requantizer[] requant;
    private final long lo;
    private final long hi;

    /**
     * MatMul of an activation by a constant weight.
     *
     * @param weights codes of B, shape [K, N], per tensor or per axis 1
     * @param bias    accumulator-unit bias per output column, or null
     * @param requant one requantizer per output column ({@code s_a * s_b[n] / s_y}), or one
     */
    public QMatMul(
            QuantParams a, QTensor weights, long[] bias, Requantizer[] requant, QuantParams out, long lo, long hi) {
        this(a, weights, bias, requant, out, lo, hi, false);
    }

    /**
     * MatMul of an activation by a constant weight, B read transposed when {@code transposedB}
     * (the {@code matmul_transpose_b} fault, as the class comment states).
     */
    public QMatMul(
            QuantParams a,
            QTensor weights,
            long[] bias,
            Requantizer[] requant,
            QuantParams out,
            long lo,
            long hi,
            boolean transposedB) {
        if (weights.shape().length != 2) {
            throw new IllegalArgumentException(
                    "constant MatMul operand must be 2-D, got " + Arrays.toString(weights.shape()));
        }
        this.aq = a;
        this.bq = weights.params();
        this.transposedB = transposedB;
        this.weights = transposedB ? readTransposed(weights.codes(), weights.shape()) : weights.codes();
        this.weightShape = weights.shape();
        this.bias = bias;
        this.requant = requant;
        this.out = out;
        this.lo = lo;
        this.hi = hi;
    }

    /** MatMul of two per-tensor activations. */
    public QMatMul(QuantParams a, QuantParams b, Requantizer requant, QuantParams out, long lo, long hi) {
        this(a, b, requant, out, lo, hi, false);
    }

    /** MatMul of two per-tensor activations, B read transposed when {@code transposedB} (the class comment). */
    public QMatMul(
            QuantParams a, QuantParams b, Requantizer requant, QuantParams out, long lo, long hi, boolean transposedB) {
        this.aq = a;
        this.bq = b;
        this.transposedB = transposedB;
        this.weights = null;
        this.weightShape = null;
        this.bias = null;
        this.requant = new Requantizer[] {requant};
        this.out = out;
        this.lo = lo;
        this.hi = hi;
    }

    /** A by the constant weight. */
    public QTensor run(QTensor a) {
        if (weights == null) {
            throw new IllegalStateException("this MatMul reads two activations");
        }
        return run(a, weights, weightShape);
    }

    /** A by the activation B. */
    public QTensor run(QTensor a, QTensor b) {
        return run(a, transposedB ? readTransposed(b.codes(), b.shape()) : b.codes(), b.shape());
    }

    /**
     * B's codes in row-major {@code [..., K, N]} order as the faulty device reads them: element
     * {@code (k, n)} of each matrix taken from offset {@code n * K + k}. A 1-D B is one column.
     */
    private static int[] readTransposed(int[] codes, int[] shape) {
        int k = shape.length == 1 ? shape[0] : shape[shape.length - 2];
        int n = shape.length == 1 ? 1 : shape[shape.length - 1];
        int[] read = new int[codes.length];
        for (int base = 0; base < codes.length; base += k * n) {
            for (int t = 0; t < k; t++) {
                for (int j = 0; j < n; j++) {
                    read[base + t * n + j] = codes[base + j * k + t];
                }
            }
        }
        return read;
    }

    private QTensor run(QTensor a, int[] bc, int[] bs) {
        int[] as = a.shape();
        MatMulShape sh = MatMulShape.of(as, bs);
        int m = sh.m();
        int k = sh.k();
        int n = sh.n();
        int batches = sh.batches();
        int za = (int) aq.zeroPoint(0);
        int[] zb = new int[n];
        for (int j = 0; j < n; j++) {
            zb[j] = (int) bq.zeroPoint(bq.isPerTensor() ? 0 : j);
        }
        int[] ac = a.codes();
        long zy = out.zeroPoint(0);
        int[] y = new int[batches * m * n];
        boolean perColumn = requant.length > 1;
        IntStream.range(0, batches * m).parallel().forEach(job -> {
            int bi = job / m;
            int i = job % m;
            int aBase = sh.aRow(bi, i);
            int bBase = sh.bMatrix(bi);
            long[] acc = new long[n];
            if (bias != null) {
                System.arraycopy(bias, 0, acc, 0, n);
            }
            for (int t = 0; t < k; t++) {
                long av = (long) ac[aBase + t] - za;
                if (av == 0) {
                    continue;
                }
                int row = bBase + t * n;
                for (int j = 0; j < n; j++) {
                    acc[j] += av * (bc[row + j] - zb[j]);
                }
            }
            int yBase = job * n;
            for (int j = 0; j < n; j++) {
                y[yBase + j] = requant[perColumn ? j : 0].apply(acc[j], zy, lo, hi);
            }
        });
        return new QTensor(sh.outShape(), y, out);
    }
}
