package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX Cast (target type from the {@code to} attribute) and CastLike (the type of input 1).
 * Float to integer truncates toward zero and wraps to the target width; anything to BOOL is
 * "not zero"; to FLOAT16 rounds to nearest even. Types the simulator lacks (strings, bfloat16,
 * float8) are rejected. DOUBLE is held in float32, as everywhere in the simulator. Thread-safe.
 */
public final class CastKernel implements FloatKernel {
    private final DType to;

    private CastKernel(DType to) {
        this.to = to;
    }

    static FloatKernel cast(Node node, int opset) {
        long code = node.attrInt("to", -1);
        DType t = DType.fromOnnx((int) code);
        if (t == null) {
            throw new IllegalArgumentException("to=" + code + " is not a data type the simulator supports (valid: "
                    + java.util.Arrays.toString(DType.values()) + ")");
        }
        return new CastKernel(t);
    }

    static FloatKernel castLike(Node node, int opset) {
        return inputs ->
                new CastKernel(KernelArgs.required(inputs, 1, "target_type").dtype()).run(inputs);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        return new Tensor[] {convert(KernelArgs.required(inputs, 0, "input"), to)};
    }

    static Tensor convert(Tensor x, DType to) {
        int n = x.size();
        if (to.isFloating()) {
            float[] r = new float[n];
            for (int i = 0; i < n; i++) {
                r[i] = (float) x.getDouble(i);
            }
            if (!x.isFloating() && x.dtype() == DType.UINT64) {
                long[] l = x.longs();
                for (int i = 0; i < n; i++) {
                    r[i] = l[i] >= 0 ? l[i] : (float) (l[i] >>> 1) * 2f;
                }
            }
            return Outputs.floats(to, x.shape(), r);
        }
        long[] r = new long[n];
        for (int i = 0; i < n; i++) {
            if (to == DType.BOOL) {
                r[i] = x.getDouble(i) != 0 ? 1 : 0;
            } else if (x.isFloating()) {
                float f = x.floats()[i];
                r[i] = to == DType.UINT64 && f >= 0x1p63f ? (long) (f / 2) << 1 : (long) f;
            } else {
                r[i] = x.longs()[i];
            }
        }
        return Outputs.longs(to, x.shape(), r);
    }
}
