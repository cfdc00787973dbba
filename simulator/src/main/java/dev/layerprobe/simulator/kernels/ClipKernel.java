package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX Clip: y = min(max(x, min), max). Before opset 11 the bounds are the attributes {@code min}
 * and {@code max}; from opset 11 they are optional scalar inputs 1 and 2. Missing bounds are
 * unbounded; NaN passes through. Integer tensors (opset 12+) are clipped as integers. Stateless
 * and thread-safe.
 */
public final class ClipKernel implements FloatKernel {
    private final boolean boundsAreInputs;
    private final float attrMin;
    private final float attrMax;

    ClipKernel(Node node, int opset) {
        boundsAreInputs = opset >= 11;
        attrMin = node.attrFloat("min", Float.NEGATIVE_INFINITY);
        attrMax = node.attrFloat("max", Float.POSITIVE_INFINITY);
    }

    static FloatKernel create(Node node, int opset) {
        return new ClipKernel(node, opset);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "input");
        Tensor lo = boundsAreInputs ? KernelArgs.optional(inputs, 1) : null;
        Tensor hi = boundsAreInputs ? KernelArgs.optional(inputs, 2) : null;
        for (Tensor b : new Tensor[] {lo, hi}) {
            if (b != null && b.size() != 1) {
                throw new IllegalArgumentException(
                        "Clip bounds must be scalars, got a tensor of " + b.size() + " values");
            }
        }
        if (x.isFloating()) {
            float min = lo != null ? (float) lo.getDouble(0) : boundsAreInputs ? Float.NEGATIVE_INFINITY : attrMin;
            float max = hi != null ? (float) hi.getDouble(0) : boundsAreInputs ? Float.POSITIVE_INFINITY : attrMax;
            float[] s = x.floats();
            float[] r = new float[s.length];
            // Math.min/max compile to branch-free vector min/max (and keep NaN), unlike a ternary.
            for (int i = 0; i < s.length; i++) {
                r[i] = Math.min(Math.max(s[i], min), max);
            }
            return new Tensor[] {Tensor.ofFloats(x.dtype(), x.shape(), r)};
        }
        long min = lo != null ? lo.getLong(0) : Long.MIN_VALUE;
        long max = hi != null ? hi.getLong(0) : Long.MAX_VALUE;
        long[] s = x.longs();
        long[] r = new long[s.length];
        for (int i = 0; i < s.length; i++) {
            r[i] = Math.min(Math.max(s[i], min), max);
        }
        return new Tensor[] {Tensor.ofLongs(x.dtype(), x.shape(), r)};
    }
}
