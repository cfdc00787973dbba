package dev.layerprobe.host.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Pooling per-input accumulators ({@link Metrics#addInput}) and their round trip through bytes. */
class MetricsPoolingTest {
    @Test
    void oneInputPooledIsThatInputBitForBit() throws Exception {
        Random r = new Random(1);
        float[] a = new float[1000];
        float[] b = new float[1000];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
            b[i] = a[i] + 0.01f * (float) r.nextGaussian();
        }
        b[7] = a[7] + 3; // a clear max_abs
        Metrics direct = new Metrics(1e-3, 1e-2).add(a, b, 0, 600).add(a, b, 600, 400);
        direct.addCodes(new int[] {1, 2, 3}, new int[] {1, 5, 3}, 0, 3);
        Metrics pooled = new Metrics(1e-3, 1e-2).addInput(roundTrip(direct));
        direct.endInput();
        assertEquals(direct.result(), pooled.result());
    }

    @Test
    void inputsPoolAsTheirSumsAndKeepTheirOwnCos() throws Exception {
        Metrics first = new Metrics().add(new float[] {1, 0}, new float[] {1, 0});
        Metrics second = new Metrics().add(new float[] {0, 1}, new float[] {1, 0});
        Metrics empty = new Metrics();
        Metrics pool = new Metrics().addInput(roundTrip(first)).addInput(empty).addInput(roundTrip(second));
        MetricResult m = pool.result();
        assertEquals(4, m.count());
        assertEquals(2, m.spread().inputs(), "an input without elements is not an input of the spread");
        assertEquals(0.0, m.spread().worstCos());
        assertEquals(1, m.spread().worstInput());
        assertEquals(0.5, m.spread().meanCos());
        assertEquals(0.5, m.cos(), 1e-15); // Σab = 1, Σa² = 2, Σb² = 2
    }

    private static Metrics roundTrip(Metrics m) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        m.write(new DataOutputStream(bytes));
        return Metrics.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
    }
}
