package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.VectorForms;
import java.util.Optional;

/**
 * The float product over a block of C rows, for {@link SgemmJob}: {@code acc[a0 + i][t] = acc[a0 +
 * i][t] + Σ_kk x[xo + i*xr + kk*xk] * panel[p0 + kk][t]} for {@code i < count}, {@code t} in
 * {@code [lo, hi)}, kk ascending with one rounding per multiply and per add, the order stated in
 * {@link Sgemm}. Both implementations compute the same bits (neither fuses nor reassociates):
 * <ul>
 *   <li>scalar: {@link SgemmLoops}, two rows per pass over the accumulator rows (C2's vectorised
 *       loops);</li>
 *   <li>vector ({@code VectorFloatTiles}, built from {@code src/main/vector}): the Vector API
 *       ({@code jdk.incubator.vector}), register blocked, so the sums stay in registers over the
 *       whole depth instead of going through memory every few k; used when the JVM runs with
 *       {@code --add-modules jdk.incubator.vector} (the launchers and the tests pass it).</li>
 * </ul>
 * Stateless and thread-safe.
 */
abstract class FloatTiles {
    private static final String VECTOR_CLASS = "dev.layerprobe.simulator.kernels.VectorFloatTiles";
    private static final FloatTiles SCALAR = new Scalar();
    private static final FloatTiles BEST = vector().orElse(SCALAR);

    abstract void accumulate(
            float[] x,
            int xo,
            int xr,
            int xk,
            int count,
            float[][] panel,
            int p0,
            int kn,
            float[][] acc,
            int a0,
            int lo,
            int hi);

    /**
     * The Conv form straight into C: {@code c[cBase + i*cr + t] = clamp(bias[biasOff + i] + Σ_kk x[xo
     * + i*xr + kk*xk] * panel[p0 + kk][t])} for {@code i < count}, {@code t} in {@code [from, to)},
     * the sum from the bias (zero when null) with kk ascending, the clamp {@code min(max(v, lo), hi)}
     * applied once when {@code clamp}.
     */
    abstract void biasProduct(
            float[] x,
            int xo,
            int xr,
            int xk,
            int count,
            float[][] panel,
            int p0,
            int kn,
            float[] bias,
            int biasOff,
            boolean clamp,
            float lo,
            float hi,
            float[] c,
            int cBase,
            int cr,
            int from,
            int to);

    /**
     * {@link #biasProduct} with the panel read in place from one array: {@code c[cBase + i*cr + t] =
     * clamp(bias[biasOff + i] + Σ_kk x[xo + i*xr + kk] * src[koff[kk] + t])} for {@code i < count},
     * {@code t} in {@code [from, to)}, {@code kk < kn} ascending; the stride-1 Conv over zero-padded
     * planes ({@link PaddedConv}), where row kk of the im2col matrix is the padded input shifted
     * by {@code koff[kk]}.
     */
    abstract void offsetProduct(
            float[] x,
            int xo,
            int xr,
            int count,
            float[] src,
            int[] koff,
            int kn,
            float[] bias,
            int biasOff,
            boolean clamp,
            float lo,
            float hi,
            float[] c,
            int cBase,
            int cr,
            int from,
            int to);

    /**
     * {@code o[t] = clamp(bias + Σ_kk w[wb + kk] * src[koff[kk] + t])} for {@code t} in {@code [from,
     * to)}, {@code kk < kn} ascending (one rounding per multiply and per add), the clamp {@code
     * min(max(v, lo), hi)} applied once when {@code clamp}: one depthwise plane over its zero-padded
     * phase planes ({@link PaddedDepthwise}), where tap kk is the planes shifted by {@code koff[kk]}.
     */
    abstract void taps(
            float[] src,
            int[] koff,
            int kn,
            float[] w,
            int wb,
            float bias,
            boolean clamp,
            float lo,
            float hi,
            float[] o,
            int from,
            int to);

    /**
     * {@code even[e + i] = x[xo + 2i]}, {@code odd[od + i] = x[xo + 2i + 1]} for {@code i < n}: a row
     * split into its even and odd columns (the phase planes of a stride-2 depthwise conv).
     */
    abstract void deinterleave(float[] x, int xo, float[] even, int e, float[] odd, int od, int n);

    /**
     * {@code o[j] = clamp(bias + Σ_k w[wb + k] * tap[k][j])} for {@code j} in {@code [j0, j1)}, the
     * nine taps in order (left to right, one rounding per multiply and per add), the clamp {@code
     * min(max(v, lo), hi)} applied once when {@code clamp}: one depthwise 3x3 plane over its tap
     * arrays ({@link Depthwise3x3#flat}).
     */
    abstract void taps9(
            float[][] tap, float[] w, int wb, float bias, int j0, int j1, boolean clamp, float lo, float hi, float[] o);

    /** {@code dst[d + i] = x[xo + 2i]} for {@code i < n}: the stride-2 rows of an im2col matrix. */
    abstract void evens(float[] x, int xo, float[] dst, int d, int n);

    /** Whether this is the register-blocked form (the Conv's start-with-products shortcut is not). */
    abstract boolean blocked();

    /** The fastest implementation this JVM runs. */
    static FloatTiles best() {
        return BEST;
    }

    static FloatTiles scalar() {
        return SCALAR;
    }

    /** The Vector API form, when the JVM resolved {@code jdk.incubator.vector}. */
    static Optional<FloatTiles> vector() {
        return VectorForms.load(FloatTiles.class, VECTOR_CLASS);
    }

    private static final class Scalar extends FloatTiles {
        @Override
        void accumulate(
                float[] x,
                int xo,
                int xr,
                int xk,
                int count,
                float[][] panel,
                int p0,
                int kn,
                float[][] acc,
                int a0,
                int lo,
                int hi) {
            int i = 0;
            for (; i + 2 <= count; i += 2) {
                SgemmLoops.accumulate2(
                        acc[a0 + i], acc[a0 + i + 1], panel, p0, kn, x, xo + i * xr, xo + (i + 1) * xr, xk, lo, hi);
            }
            if (i < count) {
                SgemmLoops.accumulate(acc[a0 + i], panel, p0, kn, x, xo + i * xr, xk, lo, hi);
            }
        }

        /** Element by element: only the vector form's leftover columns come here. */
        @Override
        void biasProduct(
                float[] x,
                int xo,
                int xr,
                int xk,
                int count,
                float[][] panel,
                int p0,
                int kn,
                float[] bias,
                int biasOff,
                boolean clamp,
                float lo,
                float hi,
                float[] c,
                int cBase,
                int cr,
                int from,
                int to) {
            for (int i = 0; i < count; i++) {
                int xi = xo + i * xr;
                float b = bias == null ? 0f : bias[biasOff + i];
                for (int t = from; t < to; t++) {
                    float v = b;
                    for (int kk = 0; kk < kn; kk++) {
                        v = v + x[xi + kk * xk] * panel[p0 + kk][t];
                    }
                    c[cBase + i * cr + t] = clamp ? Math.min(Math.max(v, lo), hi) : v;
                }
            }
        }

        /** Element by element: only the vector form's leftover columns come here. */
        @Override
        void offsetProduct(
                float[] x,
                int xo,
                int xr,
                int count,
                float[] src,
                int[] koff,
                int kn,
                float[] bias,
                int biasOff,
                boolean clamp,
                float lo,
                float hi,
                float[] c,
                int cBase,
                int cr,
                int from,
                int to) {
            for (int i = 0; i < count; i++) {
                int xi = xo + i * xr;
                float b = bias == null ? 0f : bias[biasOff + i];
                for (int t = from; t < to; t++) {
                    float v = b;
                    for (int kk = 0; kk < kn; kk++) {
                        v = v + x[xi + kk] * src[koff[kk] + t];
                    }
                    c[cBase + i * cr + t] = clamp ? Math.min(Math.max(v, lo), hi) : v;
                }
            }
        }

        /** Element by element: only the vector form's leftover positions come here. */
        @Override
        void taps(
                float[] src,
                int[] koff,
                int kn,
                float[] w,
                int wb,
                float bias,
                boolean clamp,
                float lo,
                float hi,
                float[] o,
                int from,
                int to) {
            for (int t = from; t < to; t++) {
                float v = bias;
                for (int kk = 0; kk < kn; kk++) {
                    v = v + w[wb + kk] * src[koff[kk] + t];
                }
                o[t] = clamp ? Math.min(Math.max(v, lo), hi) : v;
            }
        }

        /** Two passes of five and four taps: C2 vectorises loops of at most six arrays. */
        @Override
        void taps9(
                float[][] tap,
                float[] w,
                int wb,
                float bias,
                int j0,
                int j1,
                boolean clamp,
                float lo,
                float hi,
                float[] o) {
            float[] a0 = tap[0];
            float[] a1 = tap[1];
            float[] a2 = tap[2];
            float[] a3 = tap[3];
            float[] a4 = tap[4];
            float[] a5 = tap[5];
            float[] a6 = tap[6];
            float[] a7 = tap[7];
            float[] a8 = tap[8];
            float w0 = w[wb];
            float w1 = w[wb + 1];
            float w2 = w[wb + 2];
            float w3 = w[wb + 3];
            float w4 = w[wb + 4];
            float w5 = w[wb + 5];
            float w6 = w[wb + 6];
            float w7 = w[wb + 7];
            float w8 = w[wb + 8];
            for (int j = j0; j < j1; j++) {
                o[j] = bias + w0 * a0[j] + w1 * a1[j] + w2 * a2[j] + w3 * a3[j] + w4 * a4[j];
            }
            for (int j = j0; j < j1; j++) {
                o[j] = o[j] + w5 * a5[j] + w6 * a6[j] + w7 * a7[j] + w8 * a8[j];
            }
            if (clamp) {
                for (int j = j0; j < j1; j++) {
                    o[j] = Math.min(Math.max(o[j], lo), hi);
                }
            }
        }

        @Override
        void deinterleave(float[] x, int xo, float[] even, int e, float[] odd, int od, int n) {
            for (int i = 0; i < n; i++) {
                even[e + i] = x[xo + 2 * i];
                odd[od + i] = x[xo + 2 * i + 1];
            }
        }

        @Override
        void evens(float[] x, int xo, float[] dst, int d, int n) {
            for (int i = 0; i < n; i++) {
                dst[d + i] = x[xo + 2 * i];
            }
        }

        @Override
        boolean blocked() {
            return false;
        }
    }
}
