package dev.layerprobe.simulator.kernels.quantized;

import java.util.Arrays;

/**
 * The summation order of MLAS's float32 SGEMM ({@code C = A B}, alpha 1, beta 0, A not
 * transposed) on x86-64 with AVX-512F, FMA3 or AVX, which ONNX Runtime's CPU provider uses for the
 * float Conv and MatMul of the layers it leaves unfused; the {@code requant: float} kernels that
 * reproduce those layers bit for bit share it:
 * <ul>
 *   <li>K is split in slices of {@code StrideK} elements; within a slice each {@code C[i][j]} is a
 *       sequential chain of fused multiply-adds from 0, {@code acc = fma(a[k], b[k][j], acc)}, k
 *       ascending;</li>
 *   <li>the first slice's sum is C; each further slice's sum is added to C, in slice order
 *       (with alpha 1 the kernel's {@code acc * alpha + C} is one rounding, the same as
 *       {@code C + acc});</li>
 *   <li>StrideK depends on how B reaches the kernel: {@link #strideK} when B is packed per call
 *       ({@code MlasSgemmOperation}: Conv's im2col matrix, a MatMul of two activations), 256
 *       ({@link #PACKED_STRIDE_K}) when B was packed once ahead of time ({@code MlasGemmPackB}:
 *       the constant 2-D B of a MatMul, packed when the session is created).</li>
 * </ul>
 * How MLAS splits M and N over threads or register blocks does not change any element's sum.
 * Not covered: MLAS's dedicated kernels for M = 1 or N = 1 when B is not prepacked. Stateless.
 */
public final class OrtSgemm {
    private static final int STRIDE_N = 128;
    private static final int STRIDE_K = 128;
    /** {@code MLAS_SGEMM_PACKED_STRIDEK}: the K slice of a product whose B was packed ahead. */
    public static final int PACKED_STRIDE_K = 256;

    private OrtSgemm() {}

    /**
     * MLAS's K slice for a product of N columns and depth K with B packed per call: 128, halved
     * (and the N slice doubled) while K fits in half of it, or doubled while N is small.
     */
    public static int strideK(int n, int k) {
        int strideN = STRIDE_N;
        int strideK = STRIDE_K;
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

    /**
     * One row of C in MLAS's order: {@code c[cOff + j] = Σ_t a[aOff + t * aStride] * b[bOff + t * ldb + j]}
     * for {@code j < n}, {@code t < k}, summed as the class comment says.
     *
     * @param acc scratch of at least {@code n} floats (overwritten)
     */
    public static void row(
            float[] a,
            int aOff,
            int aStride,
            float[] b,
            int bOff,
            int ldb,
            int k,
            int n,
            int strideK,
            float[] c,
            int cOff,
            float[] acc) {
        for (int k0 = 0; k0 < k; k0 += strideK) {
            int k1 = Math.min(k, k0 + strideK);
            Arrays.fill(acc, 0, n, 0f);
            for (int t = k0; t < k1; t++) {
                float av = a[aOff + t * aStride];
                int bRow = bOff + t * ldb;
                for (int j = 0; j < n; j++) {
                    acc[j] = Math.fma(av, b[bRow + j], acc[j]);
                }
            }
            if (k0 == 0) {
                System.arraycopy(acc, 0, c, cOff, n);
            } else {
                for (int j = 0; j < n; j++) {
                    c[cOff + j] = c[cOff + j] + acc[j];
                }
            }
        }
        if (k == 0) {
            Arrays.fill(c, cOff, cOff + n, 0f);
        }
    }
}
