package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import java.util.stream.IntStream;

/**
 * A quantized LayerNormalization layer as ONNX Runtime's CPU provider computes it: it has no
 * quantized form, so ORT runs DequantizeLinear → float LayerNormalization → QuantizeLinear, with
 * this float32 arithmetic (its {@code LayerNormImpl}), reproduced for the {@code requant: float}
 * cross-check:
 * <ul>
 *   <li>x dequantized in float32, {@code (q - zp) * s}; rows are the elements from {@code axis}
 *       on, H of them;</li>
 *   <li>per row, in element order: {@code sum += x} and {@code sumSq += x * x} (product rounded,
 *       then added), both float32;</li>
 *   <li>{@code mean = sum / H}, {@code sd = sqrtf(sumSq / H - mean * mean + epsilon)}: the variance
 *       as E[x²] - mean², not the two-pass sum of squared deviations;</li>
 *   <li>{@code y = (x - mean) / sd * scale[h] + bias[h]}, each operation rounded in float32 (a
 *       division, not a multiplication by 1 / sd);</li>
 *   <li>y quantized as ONNX QuantizeLinear does ({@link QuantParams#quantize}).</li>
 * </ul>
 * The float simulator's LayerNormalization kernel sums in double, in two passes; on
 * tiny_transformer the two differed by one code on one value in 200,000 on some of its layers
 * (measured), which the following layers spread. Immutable; rows are computed in parallel.
 */
public final class OrtFloatLayerNorm {
    private final long axis;
    private final float epsilon;
    private final float[] scale;
    private final float[] bias;
    private final QuantParams in;
    private final QuantParams out;

    /**
     * @param scale H float32 values, in the order of the normalized elements
     * @param bias  H float32 values, or null
     * @param axis  the node's axis: the first normalized dimension, negative from the end
     */
    public OrtFloatLayerNorm(float[] scale, float[] bias, long axis, float epsilon, QuantParams in, QuantParams out) {
        this.scale = scale;
        this.bias = bias;
        this.axis = axis;
        this.epsilon = epsilon;
        this.in = in;
        this.out = out;
    }

    public QTensor run(QTensor x) {
        int[] shape = x.shape();
        int a = (int) (axis < 0 ? axis + shape.length : axis);
        if (a < 0 || a >= shape.length) {
            throw new IllegalArgumentException("axis " + axis + " out of range for rank " + shape.length);
        }
        int h = 1;
        for (int i = a; i < shape.length; i++) {
            h *= shape[i];
        }
        if (scale.length != h || (bias != null && bias.length != h)) {
            throw new IllegalArgumentException("scale and bias must have " + h + " values (the normalized elements),"
                    + " got " + scale.length + (bias == null ? "" : " and " + bias.length));
        }
        int norm = h;
        int rows = h == 0 ? 0 : x.size() / h;
        float sx = in.scale(0);
        long zx = in.zeroPoint(0);
        int[] codes = x.codes();
        int[] y = new int[codes.length];
        IntStream.range(0, rows).parallel().forEach(r -> {
            int base = r * norm;
            float[] v = new float[norm];
            float sum = 0f;
            float sumSq = 0f;
            for (int i = 0; i < norm; i++) {
                float xv = (float) (codes[base + i] - zx) * sx;
                v[i] = xv;
                sum = sum + xv;
                sumSq = sumSq + xv * xv;
            }
            float mean = sum / norm;
            float sd = (float) Math.sqrt(sumSq / norm - mean * mean + epsilon);
            for (int i = 0; i < norm; i++) {
                float yv = (v[i] - mean) / sd * scale[i];
                if (bias != null) {
                    yv = yv + bias[i];
                }
                y[base + i] = (int) out.quantize(yv, 0);
            }
        });
        return new QTensor(shape, y, out);
    }
}
