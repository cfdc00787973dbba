package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX Concat along {@code axis} (required since opset 4, default 1 before). All inputs share the
 * element type and every dimension but the axis. Stateless and thread-safe.
 */
public final class ConcatKernel implements FloatKernel {
    private final long axis;

    ConcatKernel(Node node, int opset) {
        if (node.attr("axis") == null && opset >= 4) {
            throw new IllegalArgumentException("attribute axis is required");
        }
        axis = node.attrInt("axis", 1);
    }

    static FloatKernel create(Node node, int opset) {
        return new ConcatKernel(node, opset);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor first = KernelArgs.required(inputs, 0, "inputs[0]");
        int r = first.rank();
        int a = KernelArgs.axis(axis, r, "axis");
        int[] shape = first.shape();
        int total = 0;
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = KernelArgs.required(inputs, i, "inputs[" + i + "]");
            int[] s = t.shape();
            if (s.length != r || t.dtype() != first.dtype()) {
                throw new IllegalArgumentException("input " + i + " " + t + " does not match " + first);
            }
            for (int d = 0; d < r; d++) {
                if (d != a && s[d] != shape[d]) {
                    throw new IllegalArgumentException("input " + i + " shape " + Arrays.toString(s)
                            + " does not match " + Arrays.toString(shape) + " outside axis " + a);
                }
            }
            total += s[a];
        }
        shape[a] = total;
        int outer = 1;
        for (int d = 0; d < a; d++) {
            outer *= shape[d];
        }
        int outRow = rowSize(shape, a);
        Object out = first.isFloating() ? new float[outer * outRow] : new long[outer * outRow];
        int col = 0;
        for (Tensor t : inputs) {
            int row = rowSize(t.shape(), a);
            Object src = t.isFloating() ? t.floats() : t.longs();
            for (int o = 0; o < outer; o++) {
                System.arraycopy(src, o * row, out, o * outRow + col, row);
            }
            col += row;
        }
        Tensor y = first.isFloating()
                ? Tensor.ofFloats(first.dtype(), shape, (float[]) out)
                : Tensor.ofLongs(first.dtype(), shape, (long[]) out);
        return new Tensor[] {y};
    }

    /** Elements per outer index: the axis and all dimensions after it. */
    private static int rowSize(int[] shape, int axis) {
        int n = 1;
        for (int d = axis; d < shape.length; d++) {
            n *= shape[d];
        }
        return n;
    }
}
