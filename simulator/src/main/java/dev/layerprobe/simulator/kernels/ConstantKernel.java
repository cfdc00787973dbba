package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX Constant: outputs the value of its one attribute: {@code value} (a tensor),
 * {@code value_float} / {@code value_floats} (FLOAT32 scalar / 1-D) or {@code value_int} /
 * {@code value_ints} (INT64 scalar / 1-D). Sparse and string values are rejected. Thread-safe.
 */
public final class ConstantKernel implements FloatKernel {
    private final Tensor value;

    ConstantKernel(Node node) {
        value = valueOf(node);
    }

    static FloatKernel create(Node node, int opset) {
        return new ConstantKernel(node);
    }

    private static Tensor valueOf(Node node) {
        Attribute a;
        if ((a = node.attr("value")) != null && a.kind() == Attribute.Kind.TENSOR) {
            return a.t();
        }
        if ((a = node.attr("value_float")) != null) {
            return Tensor.scalar(a.f());
        }
        if ((a = node.attr("value_floats")) != null) {
            return Tensor.ofFloats(new int[] {a.floats().length}, a.floats().clone());
        }
        if ((a = node.attr("value_int")) != null) {
            return Tensor.ofLongs(DType.INT64, new int[0], new long[] {a.i()});
        }
        if ((a = node.attr("value_ints")) != null) {
            return Tensor.ofLongs(
                    DType.INT64, new int[] {a.ints().length}, a.ints().clone());
        }
        throw new IllegalArgumentException(
                "value attribute " + node.attributes().keySet()
                        + " is not supported (valid: value, value_float, value_floats, value_int, value_ints)");
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        return new Tensor[] {value};
    }
}
