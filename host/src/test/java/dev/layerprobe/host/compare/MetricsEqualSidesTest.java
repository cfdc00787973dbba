package dev.layerprobe.host.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Chunks whose two sides are equal (a device that agrees with the simulator) take a shorter path
 * in {@link Metrics}: every pooled sum, written as bits, must be what the element loop gives, for
 * equal chunks between differing ones, with zeros of both signs, subnormals, values whose squares
 * overflow, NaN and infinities (which go the long way), and with code statistics.
 */
class MetricsEqualSidesTest {
    @Test
    void equalChunksPoolTheSameBitsAsTheElementLoop() throws IOException {
        Random r = new Random(5);
        for (int trial = 0; trial < 300; trial++) {
            int n = 1 + r.nextInt(300);
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = switch (r.nextInt(20)) {
                    case 0 -> -0.0f;
                    case 1 -> Float.MIN_VALUE * r.nextInt(50);
                    case 2 -> trial % 7 == 0 ? Float.MAX_VALUE : 1e3f;
                    case 3 -> trial % 11 == 0 ? Float.NaN : 2f;
                    case 4 -> trial % 13 == 0 ? Float.NEGATIVE_INFINITY : -3f;
                    default -> (float) r.nextGaussian();
                };
            }
            float[] b = a.clone();
            if (trial % 3 == 0) {
                b[r.nextInt(n)] += 0.5f; // one chunk of three differs
            }
            Metrics m = new Metrics();
            double[] want = new double[9]; // count, ab, aa, bb, dd, abs, max, close, nans
            int[] cuts = {0, n / 3, 2 * n / 3, n};
            for (int c = 0; c < 3; c++) {
                int off = cuts[c];
                int len = cuts[c + 1] - off;
                m.add(a, off, b, off, len);
                poolByLoop(want, a, b, off, len);
            }
            DataInputStream got = written(m);
            String what = "trial " + trial + ": " + Arrays.toString(a);
            assertEquals(Metrics.DEFAULT_ATOL, got.readDouble(), what);
            assertEquals(Metrics.DEFAULT_RTOL, got.readDouble(), what);
            assertEquals((long) want[0], got.readLong(), what);
            for (int k = 1; k <= 6; k++) {
                // Bits, except that every NaN is one (its sign and payload are the CPU's, not the method's).
                assertEquals(Double.doubleToLongBits(want[k]), Double.doubleToLongBits(got.readDouble()), what);
            }
            assertEquals((long) want[7], got.readLong(), what);
            assertEquals((long) want[8], got.readLong(), what);
        }
    }

    /** One chunk summed as the element loop sums it, each sum a chain from zero, then pooled. */
    private static void poolByLoop(double[] into, float[] a, float[] b, int off, int len) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        double dd = 0;
        double abs = 0;
        double mx = into[6];
        long cl = 0;
        long nn = 0;
        for (int i = off; i < off + len; i++) {
            double x = a[i];
            double y = b[i];
            double d = x - y;
            double ad = Math.abs(d);
            ab += x * y;
            aa += x * x;
            bb += y * y;
            dd += d * d;
            abs += ad;
            mx = ad > mx ? ad : mx;
            cl += ad <= Metrics.DEFAULT_ATOL + Metrics.DEFAULT_RTOL * Math.abs(x) ? 1 : 0;
            nn += Double.isNaN(d) ? 1 : 0;
        }
        into[0] += len;
        into[1] += ab;
        into[2] += aa;
        into[3] += bb;
        into[4] += dd;
        into[5] += abs;
        into[6] = mx;
        into[7] += cl;
        into[8] += nn;
    }

    private static DataInputStream written(Metrics m) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        m.write(new DataOutputStream(bytes));
        return new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
    }

    @Test
    void equalCodesCountAsBitExact() {
        int[] a = {1, -3, 127, -128, 0, 5};
        Metrics m = new Metrics().addCodes(a, a.clone(), 1, 4);
        int[] b = a.clone();
        b[5] = 9;
        m.addCodes(a, b, 2, 4);
        MetricResult res = m.result();
        assertEquals(7.0 / 8, res.bitExact());
        assertEquals(4L, res.maxLsb());
    }
}
