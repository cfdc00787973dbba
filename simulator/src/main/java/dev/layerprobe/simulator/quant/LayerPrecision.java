package dev.layerprobe.simulator.quant;

import dev.layerprobe.core.tensor.DType;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The precision a layer computes and stores its output in, as the quantizer writes it (docs/architecture.md#the-quantized-model-is-a-qdq-file,
 * §6): an integer type (Q/DQ pairs), fp16 (Cast pairs), or float32 (left in float, on the CPU).
 */
public enum LayerPrecision {
    INT8(DType.INT8),
    UINT8(DType.UINT8),
    INT16(DType.INT16),
    FP16(DType.FLOAT16),
    FLOAT32(DType.FLOAT32);

    private final DType activationType;

    LayerPrecision(DType activationType) {
        this.activationType = activationType;
    }

    /** The element type of the layer's output: an integer code type, FLOAT16 or FLOAT32. */
    public DType activationType() {
        return activationType;
    }

    public boolean isInteger() {
        return !activationType.isFloating();
    }

    /** The name used in hybrid files and messages: int8, uint8, int16, fp16, float32. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Every {@link #yamlName()}, for messages. */
    public static List<String> names() {
        return Arrays.stream(values()).map(LayerPrecision::yamlName).toList();
    }

    /**
     * The precision of a name (case-insensitive; "float16" and "fp32" accepted as aliases).
     *
     * @throws IllegalArgumentException naming the valid names
     */
    public static LayerPrecision parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "float16":
                return FP16;
            case "fp32":
                return FLOAT32;
            default:
                for (LayerPrecision p : values()) {
                    if (p.yamlName().equals(n)) {
                        return p;
                    }
                }
                throw new IllegalArgumentException("unknown precision '" + name + "', expected one of " + names());
        }
    }

    /** The precision whose activations have this type (INT8, UINT8, INT16, FLOAT16, FLOAT32). */
    public static LayerPrecision of(DType activations) {
        for (LayerPrecision p : values()) {
            if (p.activationType == activations) {
                return p;
            }
        }
        throw new IllegalArgumentException("activations of type " + activations + " are not supported, expected one of "
                + Arrays.stream(values()).map(p -> p.activationType).toList());
    }
}
