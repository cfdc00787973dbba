package dev.layerprobe.simulator.kernels.quantized;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.simulator.profile.RequantMode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The two requantization rules of docs/architecture.md#numerics: Q31 fixed point (half away from zero) and float32 (half to even). */
class RequantizerTest {

    private static long fixed(double m, long acc) {
        return new Requantizer(m, RequantMode.FIXED).scale(acc);
    }

    private static long flt(double m, long acc) {
        return new Requantizer(m, RequantMode.FLOAT).scale(acc);
    }

    /** acc * m rounded half away from zero, exactly. */
    private static long exactHalfAway(double m, long acc) {
        return new BigDecimal(acc)
                .multiply(new BigDecimal(m))
                .setScale(0, RoundingMode.HALF_UP)
                .longValueExact();
    }

    @Test
    void fixedRoundsExactTiesAwayFromZero() {
        assertEquals(1, fixed(0.5, 1));
        assertEquals(-1, fixed(0.5, -1));
        assertEquals(2, fixed(0.5, 3));
        assertEquals(-2, fixed(0.5, -3));
        assertEquals(3, fixed(0.5, 5));
        assertEquals(-3, fixed(0.5, -5));
        // 0.25 * 6 = 1.5 and 0.125 * 20 = 2.5: ties whatever the shift.
        assertEquals(2, fixed(0.25, 6));
        assertEquals(-3, fixed(0.125, -20));
    }

    @Test
    void floatRoundsExactTiesToEven() {
        assertEquals(0, flt(0.5, 1));
        assertEquals(0, flt(0.5, -1));
        assertEquals(2, flt(0.5, 3));
        assertEquals(-2, flt(0.5, -3));
        assertEquals(2, flt(0.5, 5));
        assertEquals(-2, flt(0.5, -5));
        assertEquals(2, flt(0.125, 20));
    }

    @Test
    void fixedAgreesWithRealProductWithinOneLsb() {
        SplittableRandom r = new SplittableRandom(7);
        int exact = 0;
        int n = 200_000;
        for (int i = 0; i < n; i++) {
            double m = Math.scalb(0.5 + r.nextDouble() * 0.5, -r.nextInt(0, 20));
            long acc = r.nextInt(-(1 << 24), 1 << 24);
            long want = exactHalfAway(m, acc);
            long got = fixed(m, acc);
            assertTrue(Math.abs(got - want) <= 1, "M=" + m + " acc=" + acc + ": " + got + " vs " + want);
            exact += got == want ? 1 : 0;
        }
        // The Q31 mantissa is off by at most 2^-32 relative: a 1-LSB difference needs a near-tie.
        assertTrue(exact > n * 0.999, exact + " of " + n + " exact");
    }

    @Test
    void multipliersOfOneAndMoreAreExact() {
        for (long acc : new long[] {0, 1, -1, 7, -7, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            assertEquals(acc, fixed(1.0, acc), "M=1, acc=" + acc);
            assertEquals(3 * acc, fixed(3.0, acc), "M=3, acc=" + acc);
            assertEquals(exactHalfAway(1.5, acc), fixed(1.5, acc), "M=1.5, acc=" + acc);
        }
        assertEquals(1000 * 12345L, fixed(1000.0, 12345));
        assertEquals(-2, fixed(1.5, -1));
    }

    @Test
    void multipliersFromTwoToThe31ShiftLeft() {
        Requantizer r = new Requantizer(Math.scalb(1.0, 33), RequantMode.FIXED);
        assertTrue(r.shift() < 0, "net shift " + r.shift() + " should be a left shift");
        assertEquals(5L << 33, r.scale(5));
        assertEquals(-(3L << 33), r.scale(-3));
    }

    @Test
    void verySmallMultipliers() {
        // 2^-31 with |acc| up to 2^31: results of 0 and +-1, the tie at exactly 2^30 rounding away.
        double m = Math.scalb(1.0, -31);
        assertEquals(0, fixed(m, (1L << 30) - 1));
        assertEquals(1, fixed(m, 1L << 30));
        assertEquals(-1, fixed(m, -(1L << 30)));
        assertEquals(1, fixed(m, Integer.MAX_VALUE));
        assertEquals(0, fixed(1e-12, Integer.MAX_VALUE));
        assertEquals(0, fixed(1e-12, Integer.MIN_VALUE));
        // Below 2^-32 the net right shift passes 62 bits; 64-bit accumulators (int16 profile) still
        // reach codes well away from 0 there.
        assertEquals(exactHalfAway(1e-12, 5_000_000_000_000L), fixed(1e-12, 5_000_000_000_000L));
        assertEquals(exactHalfAway(3e-15, -(1L << 52)), fixed(3e-15, -(1L << 52)));
        assertEquals(3, fixed(Math.scalb(1.5, -40), 1L << 41));
    }

    @Test
    void applyAddsZeroPointAndClamps() {
        Requantizer r = new Requantizer(0.5, RequantMode.FIXED);
        assertEquals(-118, r.apply(-236, 0, -128, 127));
        assertEquals(127, r.apply(1000, 5, -128, 127));
        assertEquals(0, r.apply(-1000, 5, 0, 255));
        assertEquals(7, r.apply(3, 5, 0, 255));
    }

    @Test
    void nonPositiveMultiplierIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Requantizer(0.0, RequantMode.FIXED));
        assertThrows(IllegalArgumentException.class, () -> new Requantizer(Double.NaN, RequantMode.FIXED));
    }

    /**
     * The row form gives apply's codes element for element, on the vector path's edges (sums at
     * the int32 limits, biases at ±2^30, shifts of 31 and 32 around the multiplier 1/2) and off
     * it (larger biases, FLOAT mode, wide output ranges), with and without the int16 wrap.
     */
    @Test
    void aRowGivesTheCodesOfApply() {
        SplittableRandom r = new SplittableRandom(11);
        int n = 4099;
        int[] acc = new int[n];
        for (int i = 0; i < n; i++) {
            acc[i] = switch (i % 5) {
                case 0 -> Integer.MIN_VALUE + r.nextInt(3);
                case 1 -> Integer.MAX_VALUE - r.nextInt(3);
                case 2 -> r.nextInt(-1000, 1000);
                default -> r.nextInt();
            };
        }
        double[] multipliers = {0.49999, 0.5, 0.25, 1.0 / 3, 3e-3, 7.7e-5, 2e-9, 1.7};
        long[] biases = {0, 1L << 30, -(1L << 30), (1L << 30) + 1, -(1L << 31), 12345};
        long[][] ranges = {{-128, 127}, {0, 255}, {-20, 30}, {Integer.MIN_VALUE, Integer.MAX_VALUE}};
        int[] out = new int[n];
        long[] wide = new long[n];
        for (RequantMode mode : RequantMode.values()) {
            for (double m : multipliers) {
                Requantizer q = new Requantizer(m, mode);
                for (long bias : biases) {
                    for (long[] range : ranges) {
                        for (boolean wrap : new boolean[] {false, true}) {
                            long zp = range[0] == 0 ? 3 : -5;
                            q.applyRow(acc, n, bias, wrap, zp, range[0], range[1], wide, out);
                            for (int i = 0; i < n; i++) {
                                long a = bias + acc[i];
                                assertEquals(
                                        q.apply(wrap ? (short) a : a, zp, range[0], range[1]),
                                        out[i],
                                        mode + " m " + m + " bias " + bias + " acc " + acc[i] + (wrap ? " wrap" : ""));
                            }
                        }
                    }
                }
            }
        }
    }

    /** Products beyond 64 bits (int16 and 64-bit accumulators) round as the exact BigInteger form does. */
    @Test
    void productsBeyond64BitsRoundAsExactArithmetic() {
        SplittableRandom r = new SplittableRandom(17);
        for (int i = 0; i < 200_000; i++) {
            long x = switch (i % 4) {
                case 0 -> r.nextLong();
                case 1 -> r.nextLong(-(1L << 45), 1L << 45);
                case 2 -> Long.MAX_VALUE - r.nextInt(4);
                default -> -(1L << r.nextInt(1, 63)) + r.nextInt(-2, 3);
            };
            long m = r.nextLong(1L << 30, 1L << 31);
            int right = i % 50 == 0 ? r.nextInt(120, 140) : r.nextInt(1, 100);
            java.math.BigInteger p =
                    java.math.BigInteger.valueOf(Math.abs(x)).multiply(java.math.BigInteger.valueOf(m));
            long want = p.add(java.math.BigInteger.ONE.shiftLeft(right - 1))
                    .shiftRight(right)
                    .longValue();
            assertEquals(
                    x < 0 ? -want : want, Requantizer.fixed(x, m, right, 0), "x " + x + " m " + m + " >> " + right);
        }
    }
}
