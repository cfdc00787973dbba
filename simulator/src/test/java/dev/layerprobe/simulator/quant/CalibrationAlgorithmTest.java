package dev.layerprobe.simulator.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.NpuProgram;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Clipping ranges of each algorithm on synthetic distributions, collected through a real program. */
class CalibrationAlgorithmTest {
    static final int N = 1 << 19;
    static final int SAMPLES = 8;
    static final float[] OUTLIERS = {1000f, -1000f, 0f, 900f, 0f, -800f};

    static NpuProgram program;
    static List<Map<String, Tensor>> outlierData;
    static Calibration outliers;

    @BeforeAll
    static void collectOnce() throws Exception {
        program = CalibrationTestData.reluProgram(N);
        outlierData = CalibrationTestData.gaussianWithOutliers(SAMPLES, N, 11, OUTLIERS);
        outliers = Calibration.collect(program, outlierData, CalibrationOptions.of(CalibrationAlgorithm.KL), n -> {});
    }

    static float[] range(Calibration c, String tensor, CalibrationAlgorithm a) {
        return c.range(tensor, c.options().withAlgorithm(a));
    }

    @Test
    void minmaxIsTheObservedRange() {
        assertArrayEquals(new float[] {-1000f, 1000f}, range(outliers, "x", CalibrationAlgorithm.MINMAX));
        assertArrayEquals(new float[] {0f, 1000f}, range(outliers, "r", CalibrationAlgorithm.MINMAX));
    }

    @Test
    void outliersAreClippedByPercentileKlAndMse() {
        float[] pct = range(outliers, "x", CalibrationAlgorithm.PERCENTILE);
        float[] kl = range(outliers, "x", CalibrationAlgorithm.KL);
        float[] mse = range(outliers, "x", CalibrationAlgorithm.MSE);
        String all =
                "percentile " + Arrays.toString(pct) + " kl " + Arrays.toString(kl) + " mse " + Arrays.toString(mse);
        // 99.99th percentile of a standard normal is 3.72; bins here are 0.98 wide.
        assertTrue(pct[1] > 2.5 && pct[1] < 5.5 && pct[0] < -2.5 && pct[0] > -5.5, all);
        // KL's candidate thresholds start at 128 of 2048 |x| bins over [0, 1000] (62.5); with the
        // bulk in the first 10 bins, KL is flat until bins start to merge in pairs at 256 (125).
        assertTrue(kl[1] <= 125 && kl[0] >= -125 && kl[1] >= 62.5 && kl[0] <= -62.5, all);
        assertTrue(mse[1] < 250 && mse[0] > -250 && mse[1] > 3 && mse[0] < -3, all);
    }

    @Test
    void mseChoiceQuantizesTheDataBetterThanMinmax() {
        float[] mse = range(outliers, "x", CalibrationAlgorithm.MSE);
        double withMse = CalibrationTestData.quantizationMse(outlierData, false, mse, DType.INT8);
        double withMinmax =
                CalibrationTestData.quantizationMse(outlierData, false, new float[] {-1000f, 1000f}, DType.INT8);
        assertTrue(
                withMse < 0.8 * withMinmax,
                "mse range " + Arrays.toString(mse) + ": " + withMse + " vs minmax " + withMinmax);
        // Near the best symmetric clipping measured on the data itself (the optimum is ~ +-145:
        // rounding noise of the bulk against the clipping error of the four outliers).
        double bestMeasured = Double.POSITIVE_INFINITY;
        for (float t = 20; t <= 1000; t *= 1.05f) {
            bestMeasured = Math.min(
                    bestMeasured,
                    CalibrationTestData.quantizationMse(outlierData, false, new float[] {-t, t}, DType.INT8));
        }
        assertTrue(withMse < 1.05 * bestMeasured, withMse + " vs best symmetric " + bestMeasured);
        float[] mseR = range(outliers, "r", CalibrationAlgorithm.MSE);
        assertTrue(CalibrationTestData.quantizationMse(outlierData, true, mseR, DType.INT8)
                < CalibrationTestData.quantizationMse(outlierData, true, new float[] {0f, 1000f}, DType.INT8));
    }

    @Test
    void mseIsNoWorseThanAnyOtherAlgorithmOnItsOwnObjective() {
        Histogram h = outliers.histogram("x");
        float[] mse = range(outliers, "x", CalibrationAlgorithm.MSE);
        double best = ClippingSearch.expectedError(h, mse[0], mse[1], DType.INT8);
        for (CalibrationAlgorithm a : CalibrationAlgorithm.values()) {
            float[] r = range(outliers, "x", a);
            assertTrue(best <= ClippingSearch.expectedError(h, r[0], r[1], DType.INT8), a.cliName());
        }
    }

    @Test
    void uniformDataKeepsCloseToMinmax() throws Exception {
        List<Map<String, Tensor>> data = CalibrationTestData.uniform(4, N, 21);
        Calibration c = Calibration.collect(program, data, CalibrationOptions.of(CalibrationAlgorithm.MSE), n -> {});
        float[] mm = c.minMax("x");
        for (CalibrationAlgorithm a : CalibrationAlgorithm.values()) {
            float[] r = range(c, "x", a);
            assertTrue(
                    Math.abs(r[0] - mm[0]) < 0.03 * (mm[1] - mm[0]) && Math.abs(r[1] - mm[1]) < 0.03 * (mm[1] - mm[0]),
                    a + " " + Arrays.toString(r) + " vs " + Arrays.toString(mm));
        }
    }

    @Test
    void nonNegativeTensorsKeepZeroAsLowerBound() {
        for (CalibrationAlgorithm a : CalibrationAlgorithm.values()) {
            float[] r = range(outliers, "r", a);
            assertEquals(0f, r[0], a.cliName());
            assertTrue(r[1] > 3, a + " " + Arrays.toString(r));
        }
        // A ReLU output is quantized over [0, T] with all 256 levels, so KL searches from bin 256:
        // T is at least 256/2048 of max.
        assertTrue(range(outliers, "r", CalibrationAlgorithm.KL)[1] >= 1000f * 256 / 2048 - 1e-3);
    }

    @Test
    void everyRangeLiesWithinMinMax() {
        for (String t : outliers.tensors()) {
            float[] mm = outliers.minMax(t);
            for (CalibrationAlgorithm a : CalibrationAlgorithm.values()) {
                float[] r = range(outliers, t, a);
                assertTrue(mm[0] <= r[0] && r[0] < r[1] && r[1] <= mm[1], t + " " + a + " " + Arrays.toString(r));
            }
        }
    }

    @Test
    void sixteenBitActivationsLeaveKlAtMinmaxAndClipLessUnderMse() {
        CalibrationOptions int16 = outliers.options().withActivations(DType.INT16);
        assertArrayEquals(
                new float[] {-1000f, 1000f}, outliers.range("x", int16.withAlgorithm(CalibrationAlgorithm.KL)));
        float[] mse16 = outliers.range("x", int16.withAlgorithm(CalibrationAlgorithm.MSE));
        float[] mse8 = range(outliers, "x", CalibrationAlgorithm.MSE);
        assertTrue(mse16[1] >= mse8[1], Arrays.toString(mse16) + " vs " + Arrays.toString(mse8));
    }

    @Test
    void localQuantizerMatchesQdqWriter() throws Exception {
        for (float[] r : new float[][] {{-3.3f, 7.1f}, {0f, 6f}, {0.5f, 2f}, {-4f, -1f}, {-62.5f, 62.5f}}) {
            Calibration c = new Calibration();
            c.observe("t", Tensor.ofFloats(new int[] {2}, r));
            for (DType type : List.of(DType.INT8, DType.UINT8, DType.INT16)) {
                QuantParams q = QdqWriter.activationParams("t", c, type);
                double[] mine = ClippingSearch.quantizer(r[0], r[1], type);
                assertEquals(q.scale(0), (float) mine[0], Arrays.toString(r) + " " + type);
                assertEquals(q.zeroPoint(0), (long) mine[1], Arrays.toString(r) + " " + type);
            }
        }
    }

    @Test
    void histogramAlgorithmsNeedHistograms() throws Exception {
        Calibration minmax = Calibration.collect(program, outlierData.subList(0, 1), n -> {});
        IllegalStateException e = assertThrows(
                IllegalStateException.class, () -> minmax.withOptions(CalibrationOptions.of(CalibrationAlgorithm.KL)));
        assertTrue(e.getMessage().contains("kl"), e.getMessage());
        assertArrayEquals(minmax.minMax("x"), minmax.range("x"));
    }

    @Test
    void cliNamesAndAliases() {
        assertEquals(
                List.of("minmax", "percentile", "kl", "mse"),
                Arrays.stream(CalibrationAlgorithm.values())
                        .map(CalibrationAlgorithm::cliName)
                        .toList());
        assertEquals(CalibrationAlgorithm.KL, CalibrationAlgorithm.fromCliName("KL_divergence"));
        assertEquals(CalibrationAlgorithm.MSE, CalibrationAlgorithm.fromCliName("mmse"));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> CalibrationAlgorithm.fromCliName("median"));
        assertTrue(
                e.getMessage().contains("'median'") && e.getMessage().contains("[minmax, percentile, kl, mse]"),
                e.getMessage());
        assertEquals(2, Calibration.passes(CalibrationAlgorithm.PERCENTILE));
        assertEquals(1, Calibration.passes(CalibrationAlgorithm.MINMAX));
    }
}
