package dev.layerprobe.simulator.kernels;

/**
 * The vector loops of {@link SgemmJob}: C rows accumulated over packed panel rows, k ascending and
 * one rounding per multiply and per add (see {@link Sgemm} for the numerics and why these shapes
 * vectorise). Stateless.
 */
final class SgemmLoops {
    private SgemmLoops() {}

    /**
     * acc[t] += sum_kk x[xo + kk*xk] * panel[p0 + kk][t] for t in [lo, hi), kk ascending; four k
     * per pass over acc.
     */
    static void accumulate(float[] acc, float[][] panel, int p0, int kn, float[] x, int xo, int xk, int lo, int hi) {
        int kk = 0;
        for (; kk + 4 <= kn; kk += 4) {
            int xi = xo + kk * xk;
            float a0 = x[xi];
            float a1 = x[xi + xk];
            float a2 = x[xi + 2 * xk];
            float a3 = x[xi + 3 * xk];
            float[] q0 = panel[p0 + kk];
            float[] q1 = panel[p0 + kk + 1];
            float[] q2 = panel[p0 + kk + 2];
            float[] q3 = panel[p0 + kk + 3];
            // Left to right: ((((acc + a0 q0) + a1 q1) + a2 q2) + a3 q3), the sequential order.
            for (int t = lo; t < hi; t++) {
                acc[t] = acc[t] + a0 * q0[t] + a1 * q1[t] + a2 * q2[t] + a3 * q3[t];
            }
        }
        for (; kk < kn; kk++) {
            float a0 = x[xo + kk * xk];
            float[] q0 = panel[p0 + kk];
            for (int t = lo; t < hi; t++) {
                acc[t] = acc[t] + a0 * q0[t];
            }
        }
    }

    /**
     * Two rows at once: accN[t] += sum_kk x[xoN + kk*xk] * panel[p0 + kk][t] for t in [lo, hi), kk
     * ascending; three k per pass, so each loaded panel value feeds two rows (C2 still vectorises
     * a loop of five arrays; with six it falls back to scalar code).
     */
    static void accumulate2(
            float[] acc0,
            float[] acc1,
            float[][] panel,
            int p0,
            int kn,
            float[] x,
            int xo0,
            int xo1,
            int xk,
            int lo,
            int hi) {
        int kk = 0;
        for (; kk + 3 <= kn; kk += 3) {
            int i0 = xo0 + kk * xk;
            int i1 = xo1 + kk * xk;
            float a00 = x[i0];
            float a01 = x[i0 + xk];
            float a02 = x[i0 + 2 * xk];
            float a10 = x[i1];
            float a11 = x[i1 + xk];
            float a12 = x[i1 + 2 * xk];
            float[] q0 = panel[p0 + kk];
            float[] q1 = panel[p0 + kk + 1];
            float[] q2 = panel[p0 + kk + 2];
            for (int t = lo; t < hi; t++) {
                float b0 = q0[t];
                float b1 = q1[t];
                float b2 = q2[t];
                float c0 = acc0[t];
                float c1 = acc1[t];
                acc0[t] = c0 + a00 * b0 + a01 * b1 + a02 * b2;
                acc1[t] = c1 + a10 * b0 + a11 * b1 + a12 * b2;
            }
        }
        if (kk + 2 == kn) {
            float a00 = x[xo0 + kk * xk];
            float a01 = x[xo0 + (kk + 1) * xk];
            float a10 = x[xo1 + kk * xk];
            float a11 = x[xo1 + (kk + 1) * xk];
            float[] q0 = panel[p0 + kk];
            float[] q1 = panel[p0 + kk + 1];
            for (int t = lo; t < hi; t++) {
                float b0 = q0[t];
                float b1 = q1[t];
                float c0 = acc0[t];
                float c1 = acc1[t];
                acc0[t] = c0 + a00 * b0 + a01 * b1;
                acc1[t] = c1 + a10 * b0 + a11 * b1;
            }
        } else if (kk + 1 == kn) {
            float a00 = x[xo0 + kk * xk];
            float a10 = x[xo1 + kk * xk];
            float[] q0 = panel[p0 + kk];
            for (int t = lo; t < hi; t++) {
                float b0 = q0[t];
                float c0 = acc0[t];
                float c1 = acc1[t];
                acc0[t] = c0 + a00 * b0;
                acc1[t] = c1 + a10 * b0;
            }
        }
    }
}
