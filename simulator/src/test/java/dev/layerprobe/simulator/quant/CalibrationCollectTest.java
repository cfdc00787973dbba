package dev.layerprobe.simulator.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.NpuProgram;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The one- and two-pass flows of Calibration.collect through a compiled program. */
class CalibrationCollectTest {
    static final int N = 4096;

    /** An Iterable that counts how many times it was iterated. */
    static final class CountingIterable implements Iterable<Map<String, Tensor>> {
        final List<Map<String, Tensor>> items;
        int iterations;

        CountingIterable(List<Map<String, Tensor>> items) {
            this.items = items;
        }

        @Override
        public Iterator<Map<String, Tensor>> iterator() {
            iterations++;
            return items.iterator();
        }
    }

    @Test
    void histogramAlgorithmsMakeTwoPassesAndReportBoth() throws Exception {
        NpuProgram p = CalibrationTestData.reluProgram(N);
        CountingIterable samples = new CountingIterable(CalibrationTestData.gaussian(5, N, 1));
        List<Integer> progress = new ArrayList<>();
        Calibration c =
                Calibration.collect(p, samples, CalibrationOptions.of(CalibrationAlgorithm.PERCENTILE), progress::add);
        assertEquals(2, samples.iterations);
        assertEquals(IntStream.rangeClosed(1, 10).boxed().toList(), progress, "5 samples x 2 passes");
        assertEquals(5, c.samples(), "samples are counted once");
        assertEquals(List.of("x", "r"), List.copyOf(c.tensors()));
        assertTrue(c.hasHistograms());
        for (String t : c.tensors()) {
            Histogram h = c.histogram(t);
            assertEquals(CalibrationOptions.DEFAULT_BINS, h.bins());
            assertEquals(5L * N, h.total(), t + ": every value of every sample, once");
            assertEquals(c.minMax(t)[0], h.lo());
            assertEquals(c.minMax(t)[1], h.hi());
            assertTrue(h.count(0) > 0 && h.count(h.bins() - 1) > 0, t + ": min and max fall in the end bins");
            Histogram m = c.magnitudeHistogram(t);
            assertEquals(5L * N, m.total(), t);
            assertEquals(0f, m.lo());
            assertEquals(Math.max(-h.lo(), h.hi()), m.hi());
        }
        assertEquals(0f, c.range("r")[0]);
    }

    @Test
    void minmaxMakesOnePassAsBefore() throws Exception {
        NpuProgram p = CalibrationTestData.reluProgram(N);
        CountingIterable samples = new CountingIterable(CalibrationTestData.gaussian(3, N, 1));
        List<Integer> progress = new ArrayList<>();
        Calibration c = Calibration.collect(p, samples, progress::add);
        assertEquals(1, samples.iterations);
        assertEquals(List.of(1, 2, 3), progress);
        assertNull(c.histogram("x"));
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (Map<String, Tensor> s : samples.items) {
            for (float v : s.get("x").floats()) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        assertArrayEquals(new float[] {lo, hi}, c.range("x"));
        assertArrayEquals(new float[] {0f, hi}, c.range("r"));
        assertNotNull(c.ranges().get("r"));
    }

    @Test
    void aOneShotIterableIsRejectedForTwoPasses() throws Exception {
        NpuProgram p = CalibrationTestData.reluProgram(N);
        Iterator<Map<String, Tensor>> once =
                CalibrationTestData.gaussian(2, N, 1).iterator();
        Iterable<Map<String, Tensor>> oneShot = () -> once;
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Calibration.collect(p, oneShot, CalibrationOptions.of(CalibrationAlgorithm.KL), n -> {}));
        assertTrue(e.getMessage().contains("2 items in the first pass and 0 in the second"), e.getMessage());
    }

    @Test
    void optionsAreValidated() {
        CalibrationOptions d = CalibrationOptions.DEFAULT;
        assertThrows(IllegalArgumentException.class, () -> d.withPercentile(40));
        assertThrows(IllegalArgumentException.class, () -> d.withBins(8));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> d.withActivations(dev.layerprobe.core.tensor.DType.FLOAT16));
        assertTrue(e.getMessage().contains("FLOAT16") && e.getMessage().contains("INT8"), e.getMessage());
    }
}
