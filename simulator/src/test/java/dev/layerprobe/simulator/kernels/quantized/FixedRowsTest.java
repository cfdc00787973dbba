package dev.layerprobe.simulator.kernels.quantized;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.simulator.profile.RequantMode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The one-pass fixed-point row ({@link FixedRows}, on the Vector API) gives the codes of
 * {@link Requantizer#apply} element by element: rows of every length up to a few vectors (the
 * vector steps and the scalar tail, arrays exactly as long as the row), sums at the int32 limits,
 * zero points, saturation at both ends, biases at the limit of the one-pass conditions.
 */
class FixedRowsTest {
    @Test
    void vectorFormIsLoadedUnderTheBuildsJvmOptions() {
        // Surefire passes --add-modules jdk.incubator.vector, as the launchers do.
        assertTrue(FixedRows.vector().isPresent(), "VectorFixedRows did not load: is src/main/vector compiled?");
    }

    @Test
    void vectorRowGivesTheCodesOfApply() {
        FixedRows rows = FixedRows.vector().orElseThrow();
        SplittableRandom r = new SplittableRandom(23);
        double[] multipliers = {0.49999, 0.5, 0.25, 1.0 / 3, 3e-3, 7.7e-5, 2e-9, 0.999999};
        long[] biases = {0, 1, -1, 12345, 1L << 30, -(1L << 30), -(1L << 31), (1L << 31) - 1};
        long[][] ranges = {{-128, 127}, {0, 255}, {-20, 30}, {0, 0}, {-32768, 32767}};
        for (int n = 0; n <= 70; n++) {
            // Arrays exactly as long as the row (vector steps, then the scalar tail), and longer
            // ones holding other sums past it (vector steps to the row's end).
            for (int slack : new int[] {0, FixedRows.SLACK + 3}) {
                int[] acc = new int[n + slack];
                for (int i = 0; i < acc.length; i++) {
                    acc[i] = switch (r.nextInt(5)) {
                        case 0 -> Integer.MIN_VALUE + r.nextInt(3);
                        case 1 -> Integer.MAX_VALUE - r.nextInt(3);
                        case 2 -> r.nextInt(-1000, 1000);
                        case 3 -> r.nextInt(-(1 << 20), 1 << 20);
                        default -> r.nextInt();
                    };
                }
                for (double m : multipliers) {
                    Requantizer q = new Requantizer(m, RequantMode.FIXED);
                    for (long bias : biases) {
                        for (long[] range : ranges) {
                            long zp = r.nextInt(-128, 129);
                            int[] out = new int[n + slack];
                            java.util.Arrays.fill(out, 99);
                            rows.row(acc, n, bias, q.mantissa(), q.shift(), zp, range[0], range[1], out);
                            for (int i = 0; i < n; i++) {
                                assertEquals(
                                        q.apply(acc[i] + bias, zp, range[0], range[1]),
                                        out[i],
                                        "n " + n + " i " + i + " m " + m + " bias " + bias + " zp " + zp + " acc "
                                                + acc[i]);
                            }
                            for (int i = n; i < out.length; i++) {
                                assertTrue(
                                        (i < n + FixedRows.SLACK && out[i] == 0) || out[i] == 99,
                                        "n " + n + ": out[" + i + "] = " + out[i] + " past the row");
                            }
                        }
                    }
                }
            }
        }
    }

    /** Into arrays exactly as long as the row, the codes of a constant row. */
    @Test
    void aConstantRowInExactArrays() {
        FixedRows rows = FixedRows.vector().orElseThrow();
        Requantizer q = new Requantizer(0.01, RequantMode.FIXED);
        for (int n = 0; n <= 40; n++) {
            int[] acc = new int[n];
            java.util.Arrays.fill(acc, 1000);
            int[] out = new int[n];
            rows.row(acc, n, 0, q.mantissa(), q.shift(), 3, -128, 127, out);
            for (int i = 0; i < n; i++) {
                assertEquals(13, out[i], "n " + n + " i " + i);
            }
        }
    }
}
