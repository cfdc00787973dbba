package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX Range: start + i * delta for i in [0, max(ceil((limit - start) / delta), 0)), of the type
 * of start. Thread-safe.
 */
public final class RangeKernel implements FloatKernel {
    static FloatKernel create(Node node, int opset) {
        return new RangeKernel();
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor start = KernelArgs.required(inputs, 0, "start");
        Tensor limit = KernelArgs.required(inputs, 1, "limit");
        Tensor delta = KernelArgs.required(inputs, 2, "delta");
        if (start.isFloating()) {
            float s = start.floats()[0];
            float d = delta.floats()[0];
            int n = (int) Math.max(Math.ceil((limit.floats()[0] - s) / d), 0);
            float[] r = new float[n];
            for (int i = 0; i < n; i++) {
                r[i] = s + i * d;
            }
            return new Tensor[] {Outputs.floats(start.dtype(), new int[] {n}, r)};
        }
        long s = start.longs()[0];
        long d = delta.longs()[0];
        if (d == 0) {
            throw new IllegalArgumentException("delta must not be 0");
        }
        int n = (int) Math.max(Math.ceil((double) (limit.longs()[0] - s) / d), 0);
        long[] r = new long[n];
        for (int i = 0; i < n; i++) {
            r[i] = s + i * d;
        }
        return new Tensor[] {Outputs.longs(start.dtype(), new int[] {n}, r)};
    }
}
