package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX Flatten: input to 2-D [d0 * ... * d(axis-1), d(axis) * ... * dn]; axis (default 1) may be
 * negative and may equal the rank. Shares the input's data (tensors are immutable). Thread-safe.
 */
public final class FlattenKernel implements FloatKernel {
    private final long axis;

    private FlattenKernel(long axis) {
        this.axis = axis;
    }

    static FloatKernel create(Node node, int opset) {
        return new FlattenKernel(node.attrInt("axis", 1));
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "input");
        int r = x.rank();
        // Flatten allows axis == rank (everything in the outer dimension), unlike most ops.
        int a = axis == r ? r : KernelArgs.axis(axis, r, "axis");
        int outer = 1;
        for (int i = 0; i < a; i++) {
            outer *= x.dim(i);
        }
        int inner = 1;
        for (int i = a; i < r; i++) {
            inner *= x.dim(i);
        }
        return new Tensor[] {x.reshape(new int[] {outer, inner})};
    }
}
