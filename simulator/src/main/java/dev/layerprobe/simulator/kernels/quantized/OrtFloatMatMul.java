package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * A quantized MatMul whose B is a float32 constant, reproduced bit for bit as ONNX Runtime's CPU
 * provider computes it: a float B has no DequantizeLinear, so nothing is fused and ORT runs
 * DequantizeLinear → float MatMul → QuantizeLinear, with B packed when the session is created:
 * <ul>
 *   <li>A dequantized in float32, {@code (q - zp) * s};</li>
 *   <li>A's leading dimensions taken as rows ({@code [..., M, K]} is one product of
 *       {@code prod(...) * M} rows; a 1-D A is one row), each row times the 2-D {@code B[K, N]} in
 *       the order of MLAS's SGEMM with B packed ahead, {@link OrtSgemm} with
 *       {@link OrtSgemm#PACKED_STRIDE_K};</li>
 *   <li>each value quantized as ONNX QuantizeLinear does ({@link QuantParams#quantize}).</li>
 * </ul>
 * Immutable; rows are computed in parallel, each by one task.
 */
public final class OrtFloatMatMul {
    private final float[] b;
    private final int k;
    private final int n;
    private final QuantParams in;
    private final QuantParams out;

    /**
     * @param b the float32 B, row-major [k, n]
     */
    public OrtFloatMatMul(float[] b, int k, int n, QuantParams in, QuantParams out) {
        if (b.length != k * n) {
            throw new IllegalArgumentException("B has " + b.length + " values, expected " + k + " x " + n);
        }
        this.b = b;
        this.k = k;
        this.n = n;
        this.in = in;
        this.out = out;
    }

    public QTensor run(QTensor a) {
        int[] as = a.shape();
        if (as.length == 0 || as[as.length - 1] != k) {
            throw new IllegalArgumentException(
                    "MatMul shapes " + Arrays.toString(as) + " and [" + k + ", " + n + "] do not match");
        }
        int rows = a.size() / k;
        float sa = in.scale(0);
        long za = in.zeroPoint(0);
        int[] codes = a.codes();
        float[] af = new float[codes.length];
        for (int i = 0; i < af.length; i++) {
            af[i] = (float) (codes[i] - za) * sa;
        }
        int[] y = new int[rows * n];
        IntStream.range(0, rows).parallel().forEach(r -> {
            float[] c = new float[n];
            OrtSgemm.row(af, r * k, 1, b, 0, n, k, n, OrtSgemm.PACKED_STRIDE_K, c, 0, new float[n]);
            for (int j = 0; j < n; j++) {
                y[r * n + j] = (int) out.quantize(c[j], 0);
            }
        });
        int[] ys = as.clone();
        ys[ys.length - 1] = n;
        return new QTensor(ys, y, out);
    }
}
