package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;

/**
 * A quantized Softmax as ONNX Runtime's CPU provider computes it once it has fused
 * DequantizeLinear → Softmax → QuantizeLinear (int8 or uint8, the same type on both sides) into its
 * contrib QLinearSoftmax, reproduced for the {@code requant: float} cross-check:
 * <ul>
 *   <li>rows: before opset 13 the input coerced to 2-D at {@code axis} (default 1), the row being
 *       every element from that axis on; from opset 13 the elements along {@code axis}
 *       (default -1). D is the row length;</li>
 *   <li>a table of exponentials in float32, {@code e[i] = (float) exp((i - 255 + b) * s_x)} for
 *       {@code i} in 0..255, evaluated in double, with {@code b = max(0, ln(FLT_MAX / D) - 5) / s_x}
 *       so that a row's sum cannot overflow; {@code FLT_MAX / D} and its logarithm are float32
 *       (ORT calls {@code log} on a float), the rest double. The float32 logarithm shows: with
 *       the double one, tiny_transformer's attention Softmax (rows of 144) had 19 of 1,824,768
 *       codes one off (measured, 11 inputs);</li>
 *   <li>per row, with m its largest code: {@code e_x = e[255 - (m - x)]}, the sum of the row's
 *       {@code e_x} in float32 in element order, and
 *       {@code y = rint((e_x * floor(1 / s_y)) / sum) + zp_y} in float32, rounding half to even,
 *       saturated to the type (int8 too: measured on ORT 1.23.2, where an output scale below 1/255
 *       pushes codes past 127).</li>
 * </ul>
 * The integer scale {@code floor(1 / s_y)} is the source of its difference from a float Softmax
 * quantized afterwards (one code, on some elements). Immutable.
 */
public final class OrtQLinearSoftmax {
    private final float xScale;
    private final QuantParams out;
    private final long axis;
    private final boolean coerce2d;
    private final float yScale;

    /**
     * @param opset the model's ONNX opset (its Softmax's form)
     * @param axis  the node's axis attribute, or null for the default of that form
     */
    public OrtQLinearSoftmax(QuantParams in, QuantParams out, int opset, Long axis) {
        this.xScale = in.scale(0);
        this.out = out;
        this.coerce2d = opset < 13;
        this.axis = axis != null ? axis : coerce2d ? 1 : -1;
        this.yScale = (float) Math.floor(1.0f / out.scale(0));
    }

    /** The exponentials for rows of D elements (see the class comment). */
    private float[] table(int rowLength) {
        double shift = (float) Math.log(Float.MAX_VALUE / (float) rowLength);
        shift = Math.max(0.0, shift - 5) / xScale;
        float[] table = new float[256];
        for (int i = 0; i < 256; i++) {
            table[i] = (float) Math.exp((i - 255 + shift) * (double) xScale);
        }
        return table;
    }

    public QTensor run(QTensor x) {
        int[] shape = x.shape();
        int r = shape.length;
        int ax = (int) (axis < 0 ? axis + r : axis);
        int outer = 1;
        for (int i = 0; i < ax; i++) {
            outer *= shape[i];
        }
        int len;
        int inner = 1;
        if (coerce2d) {
            len = 1;
            for (int i = ax; i < r; i++) {
                len *= shape[i];
            }
        } else {
            len = shape[ax];
            for (int i = ax + 1; i < r; i++) {
                inner *= shape[i];
            }
        }
        float[] table = table(len);
        int[] c = x.codes();
        int[] y = new int[c.length];
        boolean signed = out.qmin() < 0;
        int zp = (int) out.zeroPoint(0);
        for (int o = 0; o < outer; o++) {
            for (int in = 0; in < inner; in++) {
                int base = o * len * inner + in;
                int max = Integer.MIN_VALUE;
                for (int k = 0; k < len; k++) {
                    max = Math.max(max, c[base + k * inner]);
                }
                float sum = 0f;
                for (int k = 0; k < len; k++) {
                    sum += table[255 - (max - c[base + k * inner])];
                }
                for (int k = 0; k < len; k++) {
                    int i = base + k * inner;
                    if (sum == 0f) {
                        y[i] = zp; // ORT leaves such a row unwritten; it cannot occur with the table's shift
                        continue;
                    }
                    float e = table[255 - (max - c[i])];
                    int q = (int) (long) Math.rint((e * yScale) / sum) + zp;
                    y[i] = signed ? Math.max(-128, Math.min(127, q)) : Math.min(255, q);
                }
            }
        }
        return new QTensor(shape, y, out);
    }
}
