package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX ConstantOfShape: a tensor of the shape given by the INT64 input, filled with the one-element
 * {@code value} attribute (float32 0 by default) and of its type. Thread-safe.
 */
public final class ConstantOfShapeKernel implements FloatKernel {
    private final Tensor value;

    private ConstantOfShapeKernel(Tensor value) {
        this.value = value;
    }

    static FloatKernel create(Node node, int opset) {
        Attribute a = node.attr("value");
        Tensor v = a == null ? Tensor.scalar(0f) : a.t();
        if (v == null || v.size() != 1) {
            throw new IllegalArgumentException("value must be a one-element tensor");
        }
        return new ConstantOfShapeKernel(v);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        int[] shape = KernelArgs.toInts(KernelArgs.longs(KernelArgs.required(inputs, 0, "input"), "input"));
        int n = Math.toIntExact(Shapes.size(shape));
        if (value.isFloating()) {
            float[] r = new float[n];
            Arrays.fill(r, value.floats()[0]);
            return new Tensor[] {Tensor.ofFloats(value.dtype(), shape, r)};
        }
        long[] r = new long[n];
        Arrays.fill(r, value.longs()[0]);
        return new Tensor[] {Tensor.ofLongs(value.dtype(), shape, r)};
    }
}
