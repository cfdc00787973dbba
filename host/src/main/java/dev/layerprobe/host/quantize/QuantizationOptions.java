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
 */
public record QuantizationOptions(
        LayerPrecision precision,
        boolean perChannel,
        CalibrationAlgorithm algorithm,
        double percentile,
        Path hybrid,
        Path calibCache) {
    public static final QuantizationOptions DEFAULT =
            new QuantizationOptions(LayerPrecision.INT8, true, CalibrationAlgorithm.MINMAX, 99.99, null, null);

    public String describe() {
        return precision.yamlName()
                + (precision.isInteger() ? (perChannel ? " per-channel" : " per-tensor") : "")
                + (precision.isInteger()
                        ? ", " + algorithm.name().toLowerCase(java.util.Locale.ROOT)
                                + (algorithm == CalibrationAlgorithm.PERCENTILE ? " " + percentile : "")
                        : "")
                + (hybrid == null ? "" : ", hybrid " + hybrid.getFileName());
    }
}
