package dev.layerprobe.host.quantize;

import dev.layerprobe.simulator.quant.CalibrationAlgorithm;
import dev.layerprobe.simulator.quant.LayerPrecision;
import java.nio.file.Path;

/**
 * How to quantize, as {@code quantize} and {@code analyze} take it on the command line.
 *
 * @param precision  the default precision of every layer (int8, uint8, int16, fp16)
 * @param perChannel integer weights per output channel (else per tensor)
 * @param algorithm  how calibration chooses each activation's clipping range
 * @param percentile the percentile for {@link CalibrationAlgorithm#PERCENTILE}
 * @param hybrid     a YAML file of per-layer precisions, or null
 * @param calibCache a calibration cache file (read when it matches, written otherwise), or null
 * @param smoothQuant SmoothQuant's migration strength alpha in (0, 1], applied before calibration;
 *     0 for none (see {@link dev.layerprobe.simulator.quant.SmoothQuant})
 */
public record QuantizationOptions(
        LayerPrecision precision,
        boolean perChannel,
        CalibrationAlgorithm algorithm,
        double percentile,
        Path hybrid,
        Path calibCache,
        double smoothQuant) {
    public static final QuantizationOptions DEFAULT =
            new QuantizationOptions(LayerPrecision.INT8, true, CalibrationAlgorithm.MINMAX, 99.99, null, null);

    /** Options without SmoothQuant. */
    public QuantizationOptions(
            LayerPrecision precision,
            boolean perChannel,
            CalibrationAlgorithm algorithm,
            double percentile,
            Path hybrid,
            Path calibCache) {
        this(precision, perChannel, algorithm, percentile, hybrid, calibCache, 0);
    }

    public boolean smoothed() {
        return smoothQuant > 0;
    }

    public QuantizationOptions withSmoothQuant(double alpha) {
        return new QuantizationOptions(precision, perChannel, algorithm, percentile, hybrid, calibCache, alpha);
    }

    public String describe() {
        return precision.yamlName()
                + (precision.isInteger() ? (perChannel ? " per-channel" : " per-tensor") : "")
                + (precision.isInteger()
                        ? ", " + algorithm.name().toLowerCase(java.util.Locale.ROOT)
                                + (algorithm == CalibrationAlgorithm.PERCENTILE ? " " + percentile : "")
                        : "")
                + (smoothed() ? ", smooth-quant " + smoothQuant : "")
                + (hybrid == null ? "" : ", hybrid " + hybrid.getFileName());
    }
}
