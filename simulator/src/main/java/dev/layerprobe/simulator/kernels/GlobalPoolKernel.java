package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX GlobalAveragePool and GlobalMaxPool: X [N, C, d1, ...] to [N, C, 1, ...]. The average sums
 * in float32 in C order and divides once by the number of elements. Stateless and thread-safe.
 */
public final class GlobalPoolKernel implements FloatKernel {
    private final boolean max;

    private GlobalPoolKernel(boolean max) {
        this.max = max;
    }

    static FloatKernel average(Node node, int opset) {
        return new GlobalPoolKernel(false);
    }

    static FloatKernel max(Node node, int opset) {
        return new GlobalPoolKernel(true);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        KernelArgs.requireFloating(x, "X");
        if (x.rank() < 3) {
            throw new IllegalArgumentException("global pooling needs X of rank >= 3, got rank " + x.rank());
        }
        int[] shape = x.shape();
        int nc = shape[0] * shape[1];
        int plane = nc == 0 ? 0 : x.size() / nc;
        float[] s = x.floats();
        float[] r = new float[nc];
        for (int i = 0; i < nc; i++) {
            int base = i * plane;
            if (max) {
                float m = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < plane; j++) {
                    float v = s[base + j];
                    m = v > m || Float.isNaN(v) ? v : m;
                }
                r[i] = m;
            } else {
                float sum = 0f;
                for (int j = 0; j < plane; j++) {
                    sum += s[base + j];
                }
                r[i] = sum / plane;
            }
        }
        for (int d = 2; d < shape.length; d++) {
            shape[d] = 1;
        }
        return new Tensor[] {Outputs.floats(x.dtype(), shape, r)};
    }
}
