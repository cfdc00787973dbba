package dev.layerprobe.dump.layout;

import dev.layerprobe.core.tensor.DType;
import java.util.Map;

/**
 * How to interpret raw fixed-point files whose layout carries no scale (TIDL {@code .y} traces,
 * RKNN integer dumps, Vitis AI {@code .bin} dumps without a fix position file): per layer from a
 * mapping file, else the defaults given here. Immutable.
 *
 * @param perLayer   quantization per dump layer name (as the dump names it)
 * @param scale      the default scale; null when none was given (codes then read with scale 1)
 * @param zeroPoint  the default zero point
 * @param fixPos     the default Vitis AI fix position (value = code * 2^-fixPos), or null
 */
public record FixedPointOptions(Map<String, LayerQuant> perLayer, Double scale, long zeroPoint, Integer fixPos) {
    public static final FixedPointOptions NONE = new FixedPointOptions(Map.of(), null, 0, null);

    public FixedPointOptions {
        perLayer = perLayer == null ? Map.of() : Map.copyOf(perLayer);
    }

    /**
     * A layer's quantization from a mapping file. Any field may be null when not given.
     *
     * @param scale     value = (code - zeroPoint) * scale
     * @param zeroPoint the code of real zero
     * @param fixPos    Vitis AI fix position: scale = 2^-fixPos, zero point 0
     * @param dtype     the code type ({@code int8}, {@code uint8}, {@code int16}) where the file
     *                  cannot tell signedness
     */
    public record LayerQuant(Double scale, Long zeroPoint, Integer fixPos, DType dtype) {}

    /** The scale for a dump layer: its own, else the default, else 1. */
    public float scaleOf(String layer) {
        LayerQuant q = perLayer.get(layer);
        if (q != null && q.fixPos() != null) {
            return (float) Math.scalb(1.0, -q.fixPos());
        }
        if (q != null && q.scale() != null) {
            return q.scale().floatValue();
        }
        return scale == null ? 1f : scale.floatValue();
    }

    /** True when a scale for this layer was given at all (per layer or by default). */
    public boolean hasScale(String layer) {
        LayerQuant q = perLayer.get(layer);
        return (q != null && (q.scale() != null || q.fixPos() != null)) || scale != null;
    }

    /** The zero point for a dump layer. */
    public long zeroPointOf(String layer) {
        LayerQuant q = perLayer.get(layer);
        return q != null && q.zeroPoint() != null ? q.zeroPoint() : zeroPoint;
    }

    /** The fix position for a Vitis AI layer from these options, or null. */
    public Integer fixPosOf(String layer) {
        LayerQuant q = perLayer.get(layer);
        return q != null && q.fixPos() != null ? q.fixPos() : fixPos;
    }

    /** The code type a mapping file gives a layer, or null. */
    public DType dtypeOf(String layer) {
        LayerQuant q = perLayer.get(layer);
        return q == null ? null : q.dtype();
    }
}
