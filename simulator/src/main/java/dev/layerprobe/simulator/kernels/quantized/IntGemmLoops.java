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
     * {@code acc[t] = Σ_k a[aOff + k] * rows[k][t]} for {@code t < n}, {@code k < depth} (acc
     * overwritten).
     */
    static void multiply(int[] a, int aOff, int depth, int[][] rows, int n, int[] acc) {
        int k = 0;
        if (depth >= 4) {
            first4(a[aOff], a[aOff + 1], a[aOff + 2], a[aOff + 3], rows[0], rows[1], rows[2], rows[3], 0, n, acc);
            k = 4;
        } else {
            java.util.Arrays.fill(acc, 0, n, 0);
        }
        for (; k + 4 <= depth; k += 4) {
            add4(
                    a[aOff + k],
                    a[aOff + k + 1],
                    a[aOff + k + 2],
                    a[aOff + k + 3],
                    rows[k],
                    rows[k + 1],
                    rows[k + 2],
                    rows[k + 3],
                    0,
                    n,
                    acc);
        }
        for (; k < depth; k++) {
            add1(a[aOff + k], rows[k], 0, n, acc);
        }
    }

    /**
     * {@code acc[t] = Σ_k x[k][p] * rows[k][t]} for {@code t} in {@code [lo, hi)}: the same product
     * with the scalar operand read from column p of packed rows (the transposed form, where the
     * loop runs over output channels).
     */
    static void multiplyColumn(int[][] x, int p, int depth, int[][] rows, int lo, int hi, int[] acc) {
        int k = 0;
        if (depth >= 4) {
            first4(x[0][p], x[1][p], x[2][p], x[3][p], rows[0], rows[1], rows[2], rows[3], lo, hi, acc);
            k = 4;
        } else {
            java.util.Arrays.fill(acc, lo, hi, 0);
        }
        for (; k + 4 <= depth; k += 4) {
            add4(
                    x[k][p],
                    x[k + 1][p],
                    x[k + 2][p],
                    x[k + 3][p],
                    rows[k],
                    rows[k + 1],
                    rows[k + 2],
                    rows[k + 3],
                    lo,
                    hi,
                    acc);
        }
        for (; k < depth; k++) {
            add1(x[k][p], rows[k], lo, hi, acc);
        }
    }

    private static void first4(
            int a0, int a1, int a2, int a3, int[] q0, int[] q1, int[] q2, int[] q3, int lo, int hi, int[] acc) {
        for (int t = lo; t < hi; t++) {
            acc[t] = a0 * q0[t] + a1 * q1[t] + a2 * q2[t] + a3 * q3[t];
        }
    }

    private static void add4(
            int a0, int a1, int a2, int a3, int[] q0, int[] q1, int[] q2, int[] q3, int lo, int hi, int[] acc) {
        if ((a0 | a1 | a2 | a3) == 0) {
            return; // zero weights (pruned channels, a kernel that ignores a tap) add nothing
        }
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
}
