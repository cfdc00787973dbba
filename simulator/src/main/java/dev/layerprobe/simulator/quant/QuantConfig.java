package dev.layerprobe.simulator.quant;

import dev.layerprobe.core.tensor.DType;
import java.util.Map;
import java.util.Set;

/**
 * What the quantizer writes ({@link QdqWriter}, whose class comment states the rules):
 * <ul>
 *   <li>{@code activations}: the default precision of every layer's output: INT8 or UINT8
 *       (asymmetric per tensor), INT16 (symmetric), FLOAT16 (every layer fp16) or FLOAT32 (every
 *       layer left in float, so only the overrides are quantized);</li>
 *   <li>{@code weights}: the weight code type (INT8 or INT16) of layers at the default precision
 *       when that is an integer one; overridden layers get INT16 weights when INT16, INT8 weights
 *       when INT8/UINT8; FP16 layers always have FLOAT16 weights, FLOAT32 layers float ones;</li>
 *   <li>{@code perChannel}: integer weights per output channel, else per tensor;</li>
 *   <li>{@code overrides}: layer name (the ONNX name of the layer's output tensor) to the
 *       precision that layer uses instead of the default (a hybrid model, see {@link HybridSpec}).</li>
 * </ul>
 * Immutable.
 */
public record QuantConfig(DType activations, DType weights, boolean perChannel, Map<String, LayerPrecision> overrides) {
    private static final Set<DType> WEIGHT_TYPES = Set.of(DType.INT8, DType.INT16, DType.FLOAT16, DType.FLOAT32);

    /** int8 activations and per-channel int8 weights: the default NPU (docs/architecture.md#numerics). */
    public static final QuantConfig INT8 = new QuantConfig(DType.INT8, DType.INT8, true);
    /** Symmetric int16 activations and per-channel int16 weights everywhere. */
    public static final QuantConfig INT16 = new QuantConfig(DType.INT16, DType.INT16, true);
    /** Every layer in fp16 (IEEE binary16 weights and activations). */
    public static final QuantConfig FP16 = new QuantConfig(DType.FLOAT16, DType.FLOAT16, false);

    public QuantConfig {
        LayerPrecision.of(activations); // rejects types that are not a precision
        if (!WEIGHT_TYPES.contains(weights)) {
            throw new IllegalArgumentException(
                    "weights of type " + weights + " are not supported, expected one of " + WEIGHT_TYPES);
        }
        overrides = Map.copyOf(overrides);
    }

    public QuantConfig(DType activations, DType weights, boolean perChannel) {
        this(activations, weights, perChannel, Map.of());
    }

    /** Every layer in one precision, with per-channel weights for the integer ones. */
    public static QuantConfig of(LayerPrecision precision) {
        return switch (precision) {
            case INT8 -> INT8;
            case UINT8 -> new QuantConfig(DType.UINT8, DType.INT8, true);
            case INT16 -> INT16;
            case FP16 -> FP16;
            case FLOAT32 -> new QuantConfig(DType.FLOAT32, DType.INT8, true);
        };
    }

    /** This configuration with the given per-layer precisions (replacing any it had). */
    public QuantConfig withOverrides(Map<String, LayerPrecision> layers) {
        return new QuantConfig(activations, weights, perChannel, layers);
    }

    /** The precision of layers without an override. */
    public LayerPrecision defaultPrecision() {
        return LayerPrecision.of(activations);
    }

    /** The precision of a layer: its override, or the default. */
    public LayerPrecision precisionOf(String layer) {
        return overrides.getOrDefault(layer, defaultPrecision());
    }

    /** The integer weight code type of a layer in an integer precision (see the class comment). */
    public DType weightType(LayerPrecision p) {
        if (p == defaultPrecision() && !weights.isFloating()) {
            return weights;
        }
        return p == LayerPrecision.INT16 ? DType.INT16 : DType.INT8;
    }
}
