package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX MeanVarianceNormalization: {@code (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9)} with the
 * expectations over {@code axes} (default [0, 2, 3]), exactly the ONNX function body (note the
 * epsilon is added to the standard deviation, not the variance). Moments are accumulated in
 * double. Stateless and thread-safe.
 */
public final class MeanVarianceNormalizationKernel implements FloatKernel {
    private static final double EPSILON = 1e-9;
    private final long[] axes;

    private MeanVarianceNormalizationKernel(long[] axes) {
        this.axes = axes;
    }

    static FloatKernel create(Node node, int opset) {
        return new MeanVarianceNormalizationKernel(node.attrInts("axes", new long[] {0, 2, 3}));
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        KernelArgs.requireFloating(x, "X");
        int[] shape = x.shape();
        int r = shape.length;
        boolean[] reduced = new boolean[r];
        for (long a : axes) {
            reduced[KernelArgs.axis(a, r, "axes")] = true;
        }
        // Map every element to its statistics group: the coordinates along the kept axes.
        int n = x.size();
        int[] group = new int[n];
        int groups = 1;
        int[] gStride = new int[r];
        for (int d = r - 1; d >= 0; d--) {
            if (!reduced[d]) {
                gStride[d] = groups;
                groups *= shape[d];
            }
        }
        int[] ctr = new int[r];
        for (int i = 0; i < n; i++) {
            int g = 0;
            for (int d = 0; d < r; d++) {
                g += ctr[d] * gStride[d];
            }
            group[i] = g;
            for (int d = r - 1; d >= 0 && ++ctr[d] == shape[d]; d--) {
                ctr[d] = 0;
            }
        }
        double[] sum = new double[groups];
        double[] sq = new double[groups];
        int[] count = new int[groups];
        float[] s = x.floats();
        for (int i = 0; i < n; i++) {
            sum[group[i]] += s[i];
            sq[group[i]] += (double) s[i] * s[i];
            count[group[i]]++;
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            int g = group[i];
            double mean = sum[g] / count[g];
            double var = sq[g] / count[g] - mean * mean;
            out[i] = (float) ((s[i] - mean) / (Math.sqrt(Math.max(var, 0)) + EPSILON));
        }
        return new Tensor[] {Outputs.floats(x.dtype(), shape, out)};
    }
}
