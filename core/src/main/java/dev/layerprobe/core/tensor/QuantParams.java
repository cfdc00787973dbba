package dev.layerprobe.core.tensor;

import java.util.Arrays;

/**
 * How real values map to integer codes: {@code real = scale * (code - zeroPoint)}.
 *
 * <p>Per tensor when {@link #scale()} has one element; per channel along {@link #axis()} otherwise.
 * Quantizing divides in float32, rounds half to even and saturates to the type's range, exactly as
 * ONNX QuantizeLinear does; this is the only place in the simulator where that rule is written.
 */
public final class QuantParams {
    private final DType type;
    private final float[] scale;
    private final long[] zeroPoint;
    private final int axis;

    public QuantParams(DType type, float[] scale, long[] zeroPoint, int axis) {
        if (type.isFloating()) {
            throw new IllegalArgumentException("quantized type must be an integer type, got " + type);
        }
        if (scale.length == 0 || scale.length != zeroPoint.length) {
            throw new IllegalArgumentException("scale and zero point must have the same, non-zero length");
        }
        for (float s : scale) {
            if (!(s > 0) || Float.isInfinite(s)) {
                throw new IllegalArgumentException("scale must be positive and finite, got " + s);
            }
        }
        this.type = type;
        this.scale = scale.clone();
        this.zeroPoint = zeroPoint.clone();
        this.axis = axis;
    }

    public static QuantParams perTensor(DType type, float scale, long zeroPoint) {
        return new QuantParams(type, new float[] {scale}, new long[] {zeroPoint}, 0);
    }

    public DType type() {
        return type;
    }

    public boolean isPerTensor() {
        return scale.length == 1;
    }

    public float[] scale() {
        return scale.clone();
    }

    public long[] zeroPoint() {
        return zeroPoint.clone();
    }

    public float scale(int channel) {
        return scale[scale.length == 1 ? 0 : channel];
    }

    public long zeroPoint(int channel) {
        return zeroPoint[zeroPoint.length == 1 ? 0 : channel];
    }

    public int axis() {
        return axis;
    }

    public long qmin() {
        return type.min();
    }

    public long qmax() {
        return type.max();
    }

    /**
     * ONNX QuantizeLinear of one value for a channel: the float32 quotient {@code real / scale},
     * rounded half to even, plus the zero point, saturated.
     */
    public long quantize(float real, int channel) {
        // The quotient in float32, as the ONNX reference and ONNX Runtime (MLAS) divide: a double
        // quotient of e.g. 0.8446728f / 0.08891293f is 9.4999..., where float32 gives the tie 9.5.
        double v = Math.rint(real / scale(channel)) + zeroPoint(channel);
        return (long) Math.max((double) qmin(), Math.min((double) qmax(), v));
    }

    public float dequantize(long code, int channel) {
        return (float) ((code - zeroPoint(channel)) * (double) scale(channel));
    }

    /** True when both describe the same mapping, so codes compare directly. */
    public boolean sameMapping(QuantParams o) {
        return o != null
                && type == o.type
                && axis == o.axis
                && Arrays.equals(scale, o.scale)
                && Arrays.equals(zeroPoint, o.zeroPoint);
    }

    @Override
    public String toString() {
        return type
                + (isPerTensor()
                        ? "(scale=" + scale[0] + ", zp=" + zeroPoint[0] + ")"
                        : "(per-channel axis " + axis + ", " + scale.length + " channels)");
    }
}
