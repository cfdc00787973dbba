package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX QuantizeLinear and DequantizeLinear on the float path, so a QDQ model can also be evaluated
 * node by node in float. Scale and zero point are per tensor (scalar or one element) or per axis
 * (1-D along {@code axis}, default 1); blocked quantization ({@code block_size}) is rejected.
 *
 * <p>QuantizeLinear divides in float32, rounds half to even, adds the zero point and saturates to
 * the zero point's type (UINT8 when there is none), by {@link QuantParams#quantize}, the one place
 * that rule is written. DequantizeLinear computes {@code (x - zero_point) * scale}, rounded once to
 * the scale's type. Thread-safe.
 */
public final class QuantizeLinearKernel implements FloatKernel {
    private final boolean quantize;
    private final long axis;

    private QuantizeLinearKernel(Node node, boolean quantize) {
        this.quantize = quantize;
        this.axis = node.attrInt("axis", 1);
        KernelArgs.oneOf(node, "block_size", 0, 0);
        if (quantize) {
            KernelArgs.oneOf(node, "saturate", 1, 1);
            if (node.attr("output_dtype") != null && node.attrInt("output_dtype", 0) != 0) {
                DType t = DType.fromOnnx((int) node.attrInt("output_dtype", 0));
                if (t != DType.INT8 && t != DType.UINT8 && t != DType.INT16 && t != DType.UINT16) {
                    throw new IllegalArgumentException("output_dtype=" + node.attrInt("output_dtype", 0)
                            + " is not supported (valid: INT8, UINT8, INT16, UINT16)");
                }
            }
        }
    }

    static FloatKernel quantizeLinear(Node node, int opset) {
        return new QuantizeLinearKernel(node, true);
    }

    static FloatKernel dequantizeLinear(Node node, int opset) {
        return new QuantizeLinearKernel(node, false);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "x");
        Tensor scaleT = KernelArgs.required(inputs, 1, quantize ? "y_scale" : "x_scale");
        Tensor zpT = KernelArgs.optional(inputs, 2);
        KernelArgs.requireFloating(scaleT, "scale");
        if (scaleT.rank() > 1) {
            throw new IllegalArgumentException("scale " + Arrays.toString(scaleT.shape())
                    + " is not supported (valid: a scalar or 1-D per-axis scale)");
        }
        float[] scale = scaleT.floats();
        DType type = zpT != null ? zpT.dtype() : quantize ? DType.UINT8 : x.dtype();
        if (zpT != null && zpT.isFloating()) {
            throw new IllegalArgumentException(
                    "zero point of type " + zpT.dtype() + " is not supported (valid: integer types)");
        }
        long[] zp = zpT != null ? zpT.longs() : new long[scale.length];
        if (zp.length != scale.length) {
            throw new IllegalArgumentException("zero point has " + zp.length + " values, scale " + scale.length);
        }
        int[] shape = x.shape();
        boolean perAxis = scaleT.rank() == 1 && scale.length > 1;
        int inner = 1;
        int len = 1;
        if (perAxis) {
            int a = KernelArgs.axis(axis, shape.length, "axis");
            len = shape[a];
            if (len != scale.length) {
                throw new IllegalArgumentException("scale has " + scale.length + " values, axis " + a + " of x "
                        + Arrays.toString(shape) + " has " + len);
            }
            for (int i = a + 1; i < shape.length; i++) {
                inner *= shape[i];
            }
        }
        QuantParams q = new QuantParams(quantize ? type : integerType(x), scale, zp, 0);
        int n = x.size();
        if (quantize) {
            KernelArgs.requireFloating(x, "x");
            float[] xs = x.floats();
            long[] out = new long[n];
            for (int i = 0; i < n; i++) {
                out[i] = q.quantize(xs[i], (i / inner) % len);
            }
            return new Tensor[] {Tensor.ofLongs(type, shape, out)};
        }
        long[] xs = x.longs();
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = q.dequantize(xs[i], (i / inner) % len);
        }
        return new Tensor[] {Outputs.floats(scaleT.dtype(), shape, out)};
    }

    private static DType integerType(Tensor x) {
        if (x.isFloating()) {
            throw new IllegalArgumentException(
                    "x of type " + x.dtype() + " is not supported (valid: INT8, UINT8, INT16, UINT16, INT32)");
        }
        return x.dtype();
    }
}
