package dev.layerprobe.simulator.quant;

import dev.layerprobe.core.tensor.DType;
import java.util.List;

/**
 * How {@link Calibration} turns observed values into a clipping range.
 *
 * @param algorithm  how the range is chosen
 * @param percentile for {@link CalibrationAlgorithm#PERCENTILE}: the upper bound is the
 *                   {@code percentile}-th percentile of the values and the lower bound the
 *                   {@code (100 - percentile)}-th; in (50, 100], default 99.99
 * @param activations the integer type activations are quantized to (INT8, UINT8, INT16, UINT16):
 *                   it fixes the number of quantization levels KL and MSE optimise for
 * @param bins       histogram bins per tensor, used when collecting (ranges derived later use the
 *                   bins the histograms were collected with); default 2048, as TensorRT's entropy
 *                   calibrator: fine enough that the 128 to 256 quantization levels of 8-bit types
 *                   each span several bins, small enough (16 KiB per tensor) to keep and cache
 */
public record CalibrationOptions(CalibrationAlgorithm algorithm, double percentile, DType activations, int bins) {
    public static final double DEFAULT_PERCENTILE = 99.99;
    public static final int DEFAULT_BINS = 2048;
    public static final int MIN_BINS = 64;
    public static final int MAX_BINS = 1 << 16;
    private static final List<DType> ACTIVATION_TYPES = List.of(DType.INT8, DType.UINT8, DType.INT16, DType.UINT16);

    /** Min/max calibration for int8 activations: what {@code Calibration.collect} always did. */
    public static final CalibrationOptions DEFAULT =
            new CalibrationOptions(CalibrationAlgorithm.MINMAX, DEFAULT_PERCENTILE, DType.INT8, DEFAULT_BINS);

    public CalibrationOptions {
        if (algorithm == null) {
            throw new IllegalArgumentException(
                    "calibration algorithm is null, expected one of " + List.of(CalibrationAlgorithm.values()));
        }
        if (!(percentile > 50 && percentile <= 100)) {
            throw new IllegalArgumentException("percentile " + percentile + " is outside (50, 100]");
        }
        if (!ACTIVATION_TYPES.contains(activations)) {
            throw new IllegalArgumentException(
                    "activation type " + activations + " cannot be calibrated, expected one of " + ACTIVATION_TYPES);
        }
        if (bins < MIN_BINS || bins > MAX_BINS) {
            throw new IllegalArgumentException(
                    "histogram bins " + bins + " outside [" + MIN_BINS + ", " + MAX_BINS + "]");
        }
    }

    /** The defaults with this algorithm. */
    public static CalibrationOptions of(CalibrationAlgorithm algorithm) {
        return DEFAULT.withAlgorithm(algorithm);
    }

    public CalibrationOptions withAlgorithm(CalibrationAlgorithm a) {
        return new CalibrationOptions(a, percentile, activations, bins);
    }

    public CalibrationOptions withPercentile(double p) {
        return new CalibrationOptions(algorithm, p, activations, bins);
    }

    public CalibrationOptions withActivations(DType t) {
        return new CalibrationOptions(algorithm, percentile, t, bins);
    }

    public CalibrationOptions withBins(int b) {
        return new CalibrationOptions(algorithm, percentile, activations, b);
    }
}
