package dev.layerprobe.simulator.quant;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How a tensor's clipping range is chosen from calibration data, after the quantization
 * algorithms of NPU toolchains (RKNN {@code quantized_algorithm}, TensorRT calibrators, ONNX
 * Runtime calibrators). {@link #MINMAX} needs one pass over the samples; the others also need a
 * histogram of every tensor, filled in a second pass. See {@link ClippingSearch} for the
 * numerics of each.
 */
public enum CalibrationAlgorithm {
    /** The observed [min, max] (RKNN {@code normal}, ORT MinMax). */
    MINMAX("minmax", "normal"),
    /** The (100 - p)-th and p-th percentiles of the values (ORT Percentile, two-sided). */
    PERCENTILE("percentile"),
    /** Entropy calibration: the threshold minimising KL(P || Q) (TensorRT entropy, RKNN {@code kl_divergence}). */
    KL("kl", "entropy", "kl_divergence"),
    /** The range minimising the expected quantization mean squared error (RKNN {@code mmse}). */
    MSE("mse", "mmse");

    private final String cliName;

    @SuppressWarnings("ImmutableEnumChecker") // List.of: unmodifiable
    private final List<String> aliases;

    CalibrationAlgorithm(String cliName, String... aliases) {
        this.cliName = cliName;
        this.aliases = List.of(aliases);
    }

    /** The name used on the command line and in calibration cache files. */
    public String cliName() {
        return cliName;
    }

    /** Whether the algorithm needs a histogram per tensor (a second pass over the samples). */
    public boolean needsHistogram() {
        return this != MINMAX;
    }

    /** Passes over the calibration samples that {@code Calibration.collect} makes: 1 or 2. */
    public int passes() {
        return needsHistogram() ? 2 : 1;
    }

    /**
     * The algorithm with this CLI name, case-insensitive; toolchain spellings ({@code normal},
     * {@code kl_divergence}, {@code entropy}, {@code mmse}) are accepted too.
     *
     * @throws IllegalArgumentException naming the bad value and the valid ones
     */
    public static CalibrationAlgorithm fromCliName(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (CalibrationAlgorithm a : values()) {
            if (a.cliName.equals(n) || a.aliases.contains(n)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown calibration algorithm '" + name + "', expected one of "
                + Arrays.stream(values()).map(CalibrationAlgorithm::cliName).toList());
    }

    @Override
    public String toString() {
        return cliName;
    }
}
