package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX Squeeze and Unsqueeze. Axes are the {@code axes} attribute before opset 13 and input 1
 * from 13; Unsqueeze axes refer to the output's rank. Squeeze without axes removes every 1.
 * Shares the input's data (tensors are immutable). Stateless and thread-safe.
 */
public final class SqueezeKernel implements FloatKernel {
    private final boolean unsqueeze;
    private final long[] attrAxes;
    private final boolean axesInput;

    private SqueezeKernel(Node node, int opset, boolean unsqueeze) {
        this.unsqueeze = unsqueeze;
        axesInput = opset >= 13;
        attrAxes = node.attrInts("axes", null);
        if (unsqueeze && !axesInput && attrAxes == null) {
            throw new IllegalArgumentException("attribute axes is required");
        }
    }

    static FloatKernel squeeze(Node node, int opset) {
        return new SqueezeKernel(node, opset, false);
    }

    static FloatKernel unsqueeze(Node node, int opset) {
        return new SqueezeKernel(node, opset, true);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "data");
        long[] axes = attrAxes;
        if (axesInput) {
            Tensor a = unsqueeze ? KernelArgs.required(inputs, 1, "axes") : KernelArgs.optional(inputs, 1);
            axes = a == null ? null : KernelArgs.longs(a, "axes");
        }
        int[] in = x.shape();
        if (unsqueeze) {
            int r = in.length + axes.length;
            boolean[] added = new boolean[r];
            for (long a : axes) {
                int ax = KernelArgs.axis(a, r, "axes");
                if (added[ax]) {
                    throw new IllegalArgumentException("axes=" + Arrays.toString(axes) + " repeats axis " + ax);
                }
                added[ax] = true;
            }
            int[] out = new int[r];
            for (int i = 0, j = 0; i < r; i++) {
                out[i] = added[i] ? 1 : in[j++];
            }
            return new Tensor[] {x.reshape(out)};
        }
        boolean[] removed = new boolean[in.length];
        if (axes == null) {
            for (int i = 0; i < in.length; i++) {
                removed[i] = in[i] == 1;
            }
        } else {
            for (long a : axes) {
                int ax = KernelArgs.axis(a, in.length, "axes");
                if (in[ax] != 1) {
                    throw new IllegalArgumentException("cannot squeeze axis " + ax + " of size " + in[ax]);
                }
                removed[ax] = true;
            }
        }
        int[] out = new int[in.length];
        int j = 0;
        for (int i = 0; i < in.length; i++) {
            if (!removed[i]) {
                out[j++] = in[i];
            }
        }
        return new Tensor[] {x.reshape(Arrays.copyOf(out, j))};
    }
}
