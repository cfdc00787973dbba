package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX CumSum along the axis given by the second input (a scalar), optionally {@code exclusive}
 * (each element excludes itself) and {@code reverse}. Floating sums accumulate in float32 in scan
 * order, as numpy's cumsum does; integer sums wrap to the element type. Thread-safe.
 */
public final class CumSumKernel implements FloatKernel {
    private final boolean exclusive;
    private final boolean reverse;

    private CumSumKernel(boolean exclusive, boolean reverse) {
        this.exclusive = exclusive;
        this.reverse = reverse;
    }

    static FloatKernel create(Node node, int opset) {
        return new CumSumKernel(
                KernelArgs.oneOf(node, "exclusive", 0, 0, 1) == 1, KernelArgs.oneOf(node, "reverse", 0, 0, 1) == 1);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "x");
        long[] ax = KernelArgs.longs(KernelArgs.required(inputs, 1, "axis"), "axis");
        if (ax.length != 1) {
            throw new IllegalArgumentException("axis must hold one value, got " + ax.length);
        }
        int r = Math.max(1, x.rank());
        int a = KernelArgs.axis(ax[0], r, "axis");
        int[] shape = x.shape();
        int len = x.rank() == 0 ? 1 : shape[a];
        int inner = 1;
        for (int i = a + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        int outer = len * inner == 0 ? 0 : x.size() / (len * inner);
        boolean f = x.isFloating();
        float[] fs = f ? x.floats() : null;
        long[] ls = f ? null : x.longs();
        float[] fo = f ? new float[x.size()] : null;
        long[] lo = f ? null : new long[x.size()];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < inner; j++) {
                float facc = 0f;
                long lacc = 0;
                for (int t = 0; t < len; t++) {
                    int i = (o * len + (reverse ? len - 1 - t : t)) * inner + j;
                    if (f) {
                        if (exclusive) {
                            fo[i] = facc;
                            facc += fs[i];
                        } else {
                            facc += fs[i];
                            fo[i] = facc;
                        }
                    } else {
                        if (exclusive) {
                            lo[i] = lacc;
                            lacc += ls[i];
                        } else {
                            lacc += ls[i];
                            lo[i] = lacc;
                        }
                    }
                }
            }
        }
        return new Tensor[] {f ? Outputs.floats(x.dtype(), shape, fo) : Outputs.longs(x.dtype(), shape, lo)};
    }
}
