package dev.layerprobe.simulator.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The O(levels) KL of the entropy search against a direct transcription of the reference (MXNet / ONNX Runtime). */
class KlCurveTest {
    static final double EPS = 1e-4;

    /** Straight from the reference: P clipped with outliers, Q merged and expanded, both smoothed, KL. */
    static double reference(long[] hist, int i, int levels) {
        int n = hist.length;
        double[] p = new double[i];
        for (int k = 0; k < i; k++) {
            p[k] = hist[k];
        }
        for (int k = i; k < n; k++) {
            p[i - 1] += hist[k];
        }
        double[] q = new double[i];
        int merged = i / levels;
        for (int j = 0; j < levels; j++) {
            int start = j * merged;
            int stop = j == levels - 1 ? i : start + merged;
            double sum = 0;
            int nz = 0;
            for (int k = start; k < stop; k++) {
                sum += hist[k];
                nz += p[k] != 0 ? 1 : 0;
            }
            for (int k = start; k < stop; k++) {
                q[k] = p[k] != 0 && nz > 0 ? sum / nz : 0;
            }
        }
        if (!smooth(p) || !smooth(q)) {
            return Double.POSITIVE_INFINITY;
        }
        double sp = 0;
        double sq = 0;
        for (int k = 0; k < i; k++) {
            sp += p[k];
            sq += q[k];
        }
        double kl = 0;
        for (int k = 0; k < i; k++) {
            kl += p[k] / sp * Math.log((p[k] / sp) / (q[k] / sq));
        }
        return kl;
    }

    static boolean smooth(double[] d) {
        int zeros = 0;
        for (double v : d) {
            zeros += v == 0 ? 1 : 0;
        }
        if (zeros == d.length) {
            return false;
        }
        double take = EPS * zeros / (d.length - zeros);
        for (int k = 0; k < d.length; k++) {
            d[k] = d[k] == 0 ? EPS : Math.max(EPS / 2, d[k] - take);
        }
        return true;
    }

    static void assertSameCurve(long[] hist, int levels) {
        ClippingSearch.KlCurve curve = new ClippingSearch.KlCurve(Histogram.of(0f, 1f, hist));
        int bestRef = -1;
        int bestFast = -1;
        double minRef = Double.POSITIVE_INFINITY;
        double minFast = Double.POSITIVE_INFINITY;
        for (int i = levels; i <= hist.length; i++) {
            double ref = reference(hist, i, levels);
            double fast = curve.divergence(i, levels);
            if (Double.isInfinite(ref)) {
                assertTrue(Double.isInfinite(fast), "i=" + i);
                continue;
            }
            assertEquals(ref, fast, 1e-9 + 1e-6 * Math.abs(ref), "i=" + i);
            if (ref < minRef) {
                minRef = ref;
                bestRef = i;
            }
            if (fast < minFast) {
                minFast = fast;
                bestFast = i;
            }
        }
        assertTrue(
                Math.abs(reference(hist, bestFast, levels) - minRef) < 1e-9 + 1e-6 * minRef,
                "fast argmin " + bestFast + " is as good as the reference's " + bestRef);
    }

    @Test
    void denseHalfGaussian() {
        SplittableRandom r = new SplittableRandom(3);
        long[] h = new long[2048];
        for (int k = 0; k < h.length; k++) {
            double x = k / 400.0;
            h[k] = Math.round(1e5 * Math.exp(-x * x / 2)) + r.nextInt(3);
        }
        assertSameCurve(h, 128);
        assertSameCurve(h, 256);
    }

    @Test
    void sparseWithOutliersAndEmptyStretches() {
        SplittableRandom r = new SplittableRandom(4);
        long[] h = new long[1024];
        for (int k = 0; k < 40; k++) {
            h[k] = r.nextInt(5) == 0 ? 0 : 1 + r.nextInt(50000);
        }
        h[300] = 1;
        h[777] = 2;
        h[1023] = 3;
        assertSameCurve(h, 128);
    }

    @Test
    void reluSpikeAtZeroAndSingleCounts() {
        long[] h = new long[512];
        h[0] = 1_000_000;
        for (int k = 1; k < 512; k += 7) {
            h[k] = 1;
        }
        assertSameCurve(h, 256);
        assertSameCurve(h, 128);
    }
}
