package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX Shape (INT64 1-D; {@code start}/{@code end} slice the dimensions since opset 15, clamped as
 * in Slice) and Size (INT64 scalar element count). Stateless and thread-safe.
 */
public final class ShapeKernel implements FloatKernel {
    private final boolean size;
    private final long start;
    private final Long end;

    private ShapeKernel(Node node, boolean size) {
        this.size = size;
        start = node.attrInt("start", 0);
        end = node.attr("end") == null ? null : node.attrInt("end", 0);
    }

    static FloatKernel shape(Node node, int opset) {
        return new ShapeKernel(node, false);
    }

    static FloatKernel size(Node node, int opset) {
        return new ShapeKernel(node, true);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "data");
        if (size) {
            return new Tensor[] {Tensor.ofLongs(DType.INT64, new int[0], new long[] {x.size()})};
        }
        int r = x.rank();
        int a = clamp(start, r);
        int b = end == null ? r : clamp(end, r);
        long[] dims = new long[Math.max(0, b - a)];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = x.dim(a + i);
        }
        return new Tensor[] {Tensor.ofLongs(DType.INT64, new int[] {dims.length}, dims)};
    }

    private static int clamp(long v, int r) {
        long c = v < 0 ? v + r : v;
        return (int) Math.max(0, Math.min(r, c));
    }
}
