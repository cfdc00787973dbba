package dev.layerprobe.simulator.kernels.quantized;

/**
 * Integer codes moved into 64-bit rows for the row forms of {@link Requantizer}, in loops C2
 * vectorises (each array indexed by the loop variable alone, one operation kind per loop), and a
 * cheap bound on their magnitude. Stateless.
 */
final class CodeRows {
    private CodeRows() {}

    /**
     * A bound on {@code max |codes[i]|}: {@code |v| <= (v ^ (v >> 31)) + 1}, and an OR of
     * non-negative ints is at least each of them; C2 computes it with vector ORs (a max it does not
     * vectorise).
     */
    static long maxAbs(int[] codes) {
        int bits = 0;
        for (int v : codes) {
            bits |= v ^ (v >> 31);
        }
        return bits + 1L;
    }

    /**
     * {@code out[i - from] = codes[index == null ? i : index[i]] - zeroPoint} for {@code i} in
     * {@code [from, to)}.
     */
    static void centred(int[] codes, int[] index, int from, int to, long zeroPoint, long[] out) {
        int n = to - from;
        if (index == null) {
            if (from == 0) {
                for (int i = 0; i < n; i++) {
                    out[i] = codes[i];
                }
            } else {
                for (int i = 0; i < n; i++) {
                    out[i] = codes[from + i];
                }
            }
        } else {
            for (int i = 0; i < n; i++) {
                out[i] = codes[index[from + i]];
            }
        }
        for (int i = 0; i < n; i++) {
            out[i] -= zeroPoint;
        }
    }

    /** {@code a * b} for non-negative bounds, {@link Long#MAX_VALUE} when it does not fit. */
    static long boundProduct(long a, long b) {
        return Math.multiplyHigh(a, b) != 0 || a * b < 0 ? Long.MAX_VALUE : a * b;
    }

    /** {@code a + b} for non-negative bounds, {@link Long#MAX_VALUE} when it does not fit. */
    static long boundSum(long a, long b) {
        return a + b < 0 ? Long.MAX_VALUE : a + b;
    }
}
