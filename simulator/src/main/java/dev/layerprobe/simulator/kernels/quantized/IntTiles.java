package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.VectorForms;
import java.util.Optional;

/**
 * The integer Conv's product over a block of output rows, {@code acc[acc0 + i][t] (+)= Σ_k
 * a[aOff + i * aStride + k] * rows[r0 + k][t]} for {@code i < count}, {@code k < depth},
 * {@code t} in {@code [lo, hi)}: in int32 arithmetic, which wraps modulo 2^32, so the order of the
 * terms never changes a sum (the numerics are {@link QConv}'s, which only takes this form when the
 * exact sum fits in int32); also the depthwise taps read in place and the bound on the input codes
 * by which QConv picks int32 or 64-bit sums. Two implementations compute the same ints:
 * <ul>
 *   <li>scalar: {@link IntGemmLoops} one output row at a time (C2's vectorised loops);</li>
 *   <li>vector ({@code VectorIntTiles}, built from {@code src/main/vector}): the Vector API
 *       ({@code jdk.incubator.vector}), register-blocked, about five times the scalar form's
 *       multiply-adds per second; used when the JVM runs with
 *       {@code --add-modules jdk.incubator.vector} (the launchers and the tests pass it).</li>
 * </ul>
 * Stateless and thread-safe.
 */
abstract class IntTiles {
    private static final String VECTOR_CLASS = "dev.layerprobe.simulator.kernels.quantized.VectorIntTiles";
    private static final IntTiles SCALAR = new Scalar();
    private static final IntTiles BEST = vector().orElse(SCALAR);

    /**
     * {@code acc[acc0 + i][t] = (accumulate ? acc[acc0 + i][t] : 0) + Σ_k a[aOff + i * aStride + k]
     * * rows[r0 + k][t]} for {@code i < count}, {@code k < depth}, {@code t} in {@code [lo, hi)}.
     */
    abstract void multiply(
            int[] a,
            int aOff,
            int aStride,
            int count,
            int[][] rows,
            int r0,
            int depth,
            int lo,
            int hi,
            int[][] acc,
            int acc0,
            boolean accumulate);

    /**
     * {@code acc[t] = Σ_k w[wOff + k] * phase[tapPhase[k]][tapOffset[k] + t]} for {@code k < taps},
     * {@code t < len}: one output channel of a depthwise Conv read in place from its input's phase
     * planes ({@link ConvPanel#phases}), without copying the taps into rows.
     */
    abstract void taps(int[] w, int wOff, int taps, int[][] phase, int[] tapPhase, int[] tapOffset, int len, int[] acc);

    /**
     * Whether {@link #taps} is the faster route for a depthwise Conv; else gathering rows and
     * {@link #multiply} is (C2 does not vectorise a loop that reads an array at an offset).
     */
    abstract boolean tapsInPlace();

    /**
     * {@link CodeRows#maxAbs}: the same bound, an OR over the same values, which both forms may
     * combine in any order.
     */
    abstract long maxAbs(int[] codes);

    /** The fastest implementation this JVM runs. */
    static IntTiles best() {
        return BEST;
    }

    static IntTiles scalar() {
        return SCALAR;
    }

    /** The Vector API form, when the JVM resolved {@code jdk.incubator.vector}. */
    static Optional<IntTiles> vector() {
        return VectorForms.load(IntTiles.class, VECTOR_CLASS);
    }

    private static final class Scalar extends IntTiles {
        @Override
        void taps(int[] w, int wOff, int taps, int[][] phase, int[] tapPhase, int[] tapOffset, int len, int[] acc) {
            java.util.Arrays.fill(acc, 0, len, 0);
            for (int k = 0; k < taps; k++) {
                int wk = w[wOff + k];
                int[] p = phase[tapPhase[k]];
                int off = tapOffset[k];
                for (int t = 0; t < len; t++) {
                    acc[t] += wk * p[off + t];
                }
            }
        }

        @Override
        boolean tapsInPlace() {
            return false;
        }

        @Override
        long maxAbs(int[] codes) {
            return CodeRows.maxAbs(codes);
        }

        @Override
        void multiply(
                int[] a,
                int aOff,
                int aStride,
                int count,
                int[][] rows,
                int r0,
                int depth,
                int lo,
                int hi,
                int[][] acc,
                int acc0,
                boolean accumulate) {
            for (int i = 0; i < count; i++) {
                IntGemmLoops.multiply(a, aOff + i * aStride, rows, r0, depth, lo, hi, acc[acc0 + i], accumulate);
            }
        }
    }
}
