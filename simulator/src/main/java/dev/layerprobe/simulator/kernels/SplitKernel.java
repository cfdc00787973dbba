package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX Split along {@code axis} into the node's outputs: sizes from the {@code split} attribute
 * (before opset 13) or input 1 (from 13); without sizes, equal parts (the last one smaller when
 * {@code num_outputs} does not divide the axis, opset 18). Any element type. Thread-safe.
 */
public final class SplitKernel implements FloatKernel {
    private final long axis;
    private final long[] attrSplit;
    private final boolean splitInput;
    private final int outputs;

    private SplitKernel(Node node, int opset) {
        axis = node.attrInt("axis", 0);
        splitInput = opset >= 13;
        attrSplit = node.attrInts("split", null);
        outputs = node.outputs().size();
    }

    static FloatKernel create(Node node, int opset) {
        return new SplitKernel(node, opset);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "input");
        int[] in = x.shape();
        int a = KernelArgs.axis(axis, in.length, "axis");
        long[] split = attrSplit;
        if (splitInput || split == null) {
            Tensor s = splitInput ? KernelArgs.optional(inputs, 1) : null;
            split = s == null ? split : KernelArgs.longs(s, "split");
        }
        if (split == null) {
            split = new long[outputs];
            long part = ((long) in[a] + outputs - 1) / outputs;
            for (int i = 0; i < outputs; i++) {
                split[i] = Math.max(0, Math.min(part, in[a] - i * part));
            }
        }
        if (Arrays.stream(split).sum() != in[a]) {
            throw new IllegalArgumentException(
                    "split=" + Arrays.toString(split) + " does not add up to dimension " + in[a] + " of axis " + a);
        }
        int[] strides = Shapes.strides(in);
        Tensor[] out = new Tensor[split.length];
        int begin = 0;
        for (int i = 0; i < split.length; i++) {
            int[] shape = in.clone();
            shape[a] = (int) split[i];
            out[i] = StridedCopy.copy(x, shape, strides, begin * strides[a]);
            begin += (int) split[i];
        }
        return out;
    }
}
