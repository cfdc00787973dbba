package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX Trilu over the last two dimensions: {@code upper=1} keeps elements with
 * {@code col - row >= k}, {@code upper=0} those with {@code col - row <= k}; the rest become zero.
 * k is the optional second input (default 0). Any element type. Thread-safe.
 */
public final class TriluKernel implements FloatKernel {
    private final boolean upper;

    private TriluKernel(boolean upper) {
        this.upper = upper;
    }

    static FloatKernel create(Node node, int opset) {
        return new TriluKernel(KernelArgs.oneOf(node, "upper", 1, 0, 1) == 1);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "input");
        Tensor kt = KernelArgs.optional(inputs, 1);
        long k = kt == null ? 0 : KernelArgs.longs(kt, "k")[0];
        if (x.rank() < 2) {
            throw new IllegalArgumentException("input " + Arrays.toString(x.shape()) + " must have rank >= 2");
        }
        int rows = x.dim(-2);
        int cols = x.dim(-1);
        boolean f = x.isFloating();
        float[] fo = f ? x.floats().clone() : null;
        long[] lo = f ? null : x.longs().clone();
        int n = x.size();
        for (int i = 0; i < n; i++) {
            int col = i % cols;
            int row = (i / cols) % rows;
            long diff = (long) col - row;
            if (upper ? diff < k : diff > k) {
                if (f) {
                    fo[i] = 0f;
                } else {
                    lo[i] = 0;
                }
            }
        }
        return new Tensor[] {f ? Tensor.ofFloats(x.dtype(), x.shape(), fo) : Tensor.ofLongs(x.dtype(), x.shape(), lo)};
    }
}
