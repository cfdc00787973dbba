package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * ONNX Compress: the slices along {@code axis} whose condition element is true (the flattened input
 * when axis is absent); a condition shorter than the axis selects nothing beyond its length. Any
 * element type. Thread-safe.
 */
public final class CompressKernel implements FloatKernel {
    private final Long axis;

    private CompressKernel(Long axis) {
        this.axis = axis;
    }

    static FloatKernel create(Node node, int opset) {
        return new CompressKernel(node.attr("axis") == null ? null : node.attrInt("axis", 0));
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "input");
        Tensor cond = KernelArgs.required(inputs, 1, "condition");
        int[] shape = axis == null ? new int[] {x.size()} : x.shape();
        int a = axis == null ? 0 : KernelArgs.axis(axis, shape.length, "axis");
        int len = shape[a];
        int inner = 1;
        for (int i = a + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        int outer = len * inner == 0 ? 0 : x.size() / (len * inner);
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < Math.min(len, cond.size()); i++) {
            if (cond.getDouble(i) != 0) {
                keep.add(i);
            }
        }
        int[] outShape = shape.clone();
        outShape[a] = keep.size();
        int[] map = new int[outer * keep.size() * inner];
        int p = 0;
        for (int o = 0; o < outer; o++) {
            for (int t : keep) {
                for (int j = 0; j < inner; j++) {
                    map[p++] = (o * len + t) * inner + j;
                }
            }
        }
        return new Tensor[] {Outputs.gather(x, outShape, map)};
    }
}
