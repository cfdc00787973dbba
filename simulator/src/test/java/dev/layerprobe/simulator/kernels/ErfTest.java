package dev.layerprobe.simulator.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The tabled erf agrees with the series it was made from, everywhere, to 1e-12 (the series itself loses about 1e-13 to cancellation near |x| = 3). */
class ErfTest {
    @Test
    void tableAgreesWithTheSeries() {
        double worst = 0;
        for (int i = -700_000; i <= 700_000; i++) {
            double x = i * 1e-5 + 0.3e-6;
            worst = Math.max(worst, Math.abs(UnaryKernels.erf(x) - UnaryKernels.erfReference(x)));
        }
        assertTrue(worst < 1e-12, "max |table - series| " + worst);
    }

    @Test
    void branchFreeSignAndClampKeepTheValues() {
        // The sign is applied without a branch and |x| is clamped to the table's end: erf is odd
        // bit for bit, exactly +-1 from 6 on, +0 at -0, and NaN for NaN.
        for (int i = 1; i <= 200_000; i++) {
            double x = i * 3.7e-5;
            assertEquals(
                    Double.doubleToRawLongBits(-UnaryKernels.erf(x)),
                    Double.doubleToRawLongBits(UnaryKernels.erf(-x)),
                    "erf(-" + x + ")");
        }
        for (double x : new double[] {6.0, 6.5, 1e10, Double.POSITIVE_INFINITY}) {
            assertEquals(1.0, UnaryKernels.erf(x), "erf(" + x + ")");
            assertEquals(-1.0, UnaryKernels.erf(-x), "erf(-" + x + ")");
        }
        assertEquals(0L, Double.doubleToRawLongBits(UnaryKernels.erf(-0.0)), "erf(-0) is +0");
        assertTrue(UnaryKernels.erf(Double.MIN_VALUE) > 0, "the smallest positive value");
        assertTrue(Double.isNaN(UnaryKernels.erf(-Double.NaN)));
    }

    @Test
    void kernelSplitOverThreadsGivesEachValueItsErf() {
        // 50,000 values are split over the pool's threads, 100 are not.
        for (int n : new int[] {100, 50_000}) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (i - n / 2) * (8f / n);
            }
            Node node = new Node("e", "Erf", "", List.of("x"), List.of("y"), Map.of());
            float[] y = FloatKernels.create(node, 13)
                    .run(new Tensor[] {Tensor.ofFloats(new int[] {n}, x)})[0]
                    .floats();
            for (int i = 0; i < n; i++) {
                assertEquals((float) UnaryKernels.erf(x[i]), y[i], 0f, "erf(" + x[i] + ")");
            }
        }
    }

    @Test
    void chunksCoverEveryIndexOnce() {
        for (int n : new int[] {0, 1, 7, 100_000}) {
            int[] seen = new int[n];
            Chunks.run(n, 10, (from, to) -> {
                for (int i = from; i < to; i++) {
                    seen[i]++;
                }
            });
            for (int i = 0; i < n; i++) {
                assertEquals(1, seen[i], "index " + i + " of " + n);
            }
        }
    }

    @Test
    void knownValuesAndEdges() {
        assertEquals(0.0, UnaryKernels.erf(0.0));
        assertEquals(0.8427007929497149, UnaryKernels.erf(1.0), 1e-15);
        assertEquals(-0.9953222650189527, UnaryKernels.erf(-2.0), 1e-15);
        assertEquals(1.0, UnaryKernels.erf(7.0));
        assertTrue(Double.isNaN(UnaryKernels.erf(Double.NaN)));
    }
}
