package dev.layerprobe.simulator.kernels.quantized;

/**
 * The vector loops of the integer Conv: int32 sums of products of int codes over packed rows, for
 * {@link QConv} (whose class comment states the numerics; int32 arithmetic wraps modulo 2^32, so
 * the order of the terms never changes a sum, and QConv only takes these loops when the exact sum
 * fits in int32).
 *
 * <p>Why this shape: HotSpot C2 (JDK 17) vectorises a loop only when every array in it is indexed
 * by the loop variable alone (with an offset, {@code x[off + t]}, it cannot rule out overlap and
 * emits scalar code, about 5x slower), and it keeps vectorising a loop that reads up to five arrays.
 * So the operand the loop runs over is packed into rows that start at index 0 ({@link ConvPanel}),
 * and four depths are summed per pass, so that each pass over the accumulator row loads and stores
 * it once for four products. Measured on this loop shape: about 24 G multiply-adds/s on one core,
 * the same as the float32 loop of the same shape (so there is nothing to win by summing exact
 * integers in float32). Stateless.
 */
final class IntGemmLoops {
    private IntGemmLoops() {}

    /**
     * {@code acc[t] (+)= Σ_k a[aOff + k] * rows[r0 + k][t]} for {@code t} in {@code [lo, hi)},
     * {@code k < depth}: added to acc when {@code accumulate}, else acc is overwritten.
     */
    static void multiply(
            int[] a, int aOff, int[][] rows, int r0, int depth, int lo, int hi, int[] acc, boolean accumulate) {
        int k = 0;
        if (!accumulate) {
            if (depth >= 4) {
                first4(a[aOff], a[aOff + 1], a[aOff + 2], a[aOff + 3], rows, r0, lo, hi, acc);
                k = 4;
            } else {
                java.util.Arrays.fill(acc, lo, hi, 0);
            }
        }
        for (; k + 4 <= depth; k += 4) {
            int i = aOff + k;
            add4(a[i], a[i + 1], a[i + 2], a[i + 3], rows, r0 + k, lo, hi, acc);
        }
        for (; k < depth; k++) {
            add1(a[aOff + k], rows[r0 + k], lo, hi, acc);
        }
    }

    private static void first4(int a0, int a1, int a2, int a3, int[][] rows, int r, int lo, int hi, int[] acc) {
        int[] q0 = rows[r];
        int[] q1 = rows[r + 1];
        int[] q2 = rows[r + 2];
        int[] q3 = rows[r + 3];
        for (int t = lo; t < hi; t++) {
            acc[t] = a0 * q0[t] + a1 * q1[t] + a2 * q2[t] + a3 * q3[t];
        }
    }

    private static void add4(int a0, int a1, int a2, int a3, int[][] rows, int r, int lo, int hi, int[] acc) {
        if ((a0 | a1 | a2 | a3) == 0) {
            return; // zero weights (pruned channels, a kernel that ignores a tap) add nothing
        }
        int[] q0 = rows[r];
        int[] q1 = rows[r + 1];
        int[] q2 = rows[r + 2];
        int[] q3 = rows[r + 3];
        for (int t = lo; t < hi; t++) {
            acc[t] += a0 * q0[t] + a1 * q1[t] + a2 * q2[t] + a3 * q3[t];
        }
    }

    private static void add1(int a0, int[] q0, int lo, int hi, int[] acc) {
        if (a0 == 0) {
            return;
        }
        for (int t = lo; t < hi; t++) {
            acc[t] += a0 * q0[t];
        }
    }

    /**
     * {@code acc[t] (+)= Σ_k a[aOff + k] * rows[r0 + k][t]} in 64 bits, for sums that may leave
     * int32 (int16 codes): two depths per pass, the widest long loop C2 vectorises (about 10 G
     * multiply-adds/s on one core; with four it falls back to scalar code).
     */
    static void multiplyWide(
            int[] a, int aOff, long[][] rows, int r0, int depth, int lo, int hi, long[] acc, boolean accumulate) {
        if (!accumulate) {
            java.util.Arrays.fill(acc, lo, hi, 0);
        }
        int k = 0;
        for (; k + 2 <= depth; k += 2) {
            long a0 = a[aOff + k];
            long a1 = a[aOff + k + 1];
            if ((a0 | a1) == 0) {
                continue;
            }
            long[] q0 = rows[r0 + k];
            long[] q1 = rows[r0 + k + 1];
            for (int t = lo; t < hi; t++) {
                acc[t] += a0 * q0[t] + a1 * q1[t];
            }
        }
        if (k < depth) {
            long a0 = a[aOff + k];
            long[] q0 = rows[r0 + k];
            for (int t = lo; t < hi; t++) {
                acc[t] += a0 * q0[t];
            }
        }
    }
}
