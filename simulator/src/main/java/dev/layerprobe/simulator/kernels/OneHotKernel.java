package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX OneHot: indices, depth (scalar, any numeric type, truncated to an integer) and values
 * {@code [off, on]}; a new axis of length depth is inserted at {@code axis} (default -1, last).
 * Negative indices count from depth; indices outside {@code [-depth, depth)} give an all-off row.
 * The output has the type of values. Thread-safe.
 */
public final class OneHotKernel implements FloatKernel {
    private final long axis;

    private OneHotKernel(long axis) {
        this.axis = axis;
    }

    static FloatKernel create(Node node, int opset) {
        return new OneHotKernel(node.attrInt("axis", -1));
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor ind = KernelArgs.required(inputs, 0, "indices");
        Tensor depthT = KernelArgs.required(inputs, 1, "depth");
        Tensor values = KernelArgs.required(inputs, 2, "values");
        if (depthT.size() != 1 || values.size() != 2) {
            throw new IllegalArgumentException(
                    "depth must hold one value and values two, got " + depthT.size() + " and " + values.size());
        }
        long depth = (long) depthT.getDouble(0);
        if (depth < 1) {
            throw new IllegalArgumentException("depth=" + depth + " must be positive");
        }
        int[] is = ind.shape();
        int a = KernelArgs.axis(axis, is.length + 1, "axis");
        int[] outShape = new int[is.length + 1];
        for (int i = 0, j = 0; i < outShape.length; i++) {
            outShape[i] = i == a ? Math.toIntExact(depth) : is[j++];
        }
        int inner = 1;
        for (int i = a; i < is.length; i++) {
            inner *= is[i];
        }
        int n = ind.size();
        int size = Math.multiplyExact(n, (int) depth);
        int[] hot = new int[size];
        int[] on = new int[n];
        for (int p = 0; p < n; p++) {
            double v = ind.getDouble(p);
            long k = (long) v;
            if (k < 0) {
                k += depth;
            }
            on[p] = k < 0 || k >= depth ? -1 : (int) (((p / inner) * depth + k) * inner + p % inner);
        }
        for (int p : on) {
            if (p >= 0) {
                hot[p] = 1;
            }
        }
        if (values.isFloating()) {
            float off = values.floats()[0];
            float onV = values.floats()[1];
            float[] out = new float[size];
            for (int i = 0; i < size; i++) {
                out[i] = hot[i] == 1 ? onV : off;
            }
            return new Tensor[] {Tensor.ofFloats(values.dtype(), outShape, out)};
        }
        long off = values.longs()[0];
        long onV = values.longs()[1];
        long[] out = new long[size];
        for (int i = 0; i < size; i++) {
            out[i] = hot[i] == 1 ? onV : off;
        }
        return new Tensor[] {Tensor.ofLongs(values.dtype(), outShape, out)};
    }
}
