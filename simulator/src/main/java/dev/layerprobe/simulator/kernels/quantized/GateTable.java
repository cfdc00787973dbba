package dev.layerprobe.simulator.kernels.quantized;

import java.util.function.DoubleUnaryOperator;

/**
 * The activation table of {@link QRecurrent}'s integer recurrent layers, as its class comment states
 * it: 513 int16 entries of Q0.15 over the Q3.12 pre-activation range [-8, 8], read with linear
 * interpolation over a code's low 7 bits. Immutable.
 */
final class GateTable {
    private static final int ENTRIES = 513;
    /** Low bits of a pre-activation code between two entries. */
    private static final int STEP_BITS = 7;

    private final int[] t;

    private GateTable(int[] t) {
        this.t = t;
    }

    /** The table of f, or null when f leaves [-1, 1] somewhere on [-8, 8] (no Q0.15 table holds it). */
    static GateTable of(DoubleUnaryOperator f) {
        int[] t = new int[ENTRIES];
        for (int k = 0; k < ENTRIES; k++) {
            double y = f.applyAsDouble(-8 + k / 32.0);
            if (!(Math.abs(y) <= 1 + 1e-6)) {
                return null;
            }
            t[k] = (int) QRecurrent.saturate((long) Math.rint(y * QRecurrent.ONE), Short.MIN_VALUE, Short.MAX_VALUE);
        }
        return new GateTable(t);
    }

    /** f at a Q3.12 code (int16), in Q0.15. */
    int at(int code) {
        int u = code + (1 << 15);
        int k = u >>> STEP_BITS;
        int frac = u & ((1 << STEP_BITS) - 1);
        return t[k] + (int) QRecurrent.shiftRound((long) (t[k + 1] - t[k]) * frac, STEP_BITS);
    }
}
