package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX LRN (local response normalisation across channels, AlexNet/GoogLeNet):
 * {@code y = x / (bias + alpha / size * sum x^2)^beta}, the sum over channels
 * {@code c - floor((size-1)/2) .. c + ceil((size-1)/2)} clipped to the tensor. Sums in double,
 * one rounding to float32. Stateless and thread-safe.
 */
public final class LrnKernel implements FloatKernel {
    private final int size;
    private final double alpha;
    private final double beta;
    private final double bias;

    private LrnKernel(Node node) {
        long s = node.attrInt("size", 0);
        if (s < 1) {
            throw new IllegalArgumentException("size=" + s + " must be a positive integer (required attribute)");
        }
        size = (int) s;
        alpha = node.attrFloat("alpha", 1e-4f);
        beta = node.attrFloat("beta", 0.75f);
        bias = node.attrFloat("bias", 1f);
    }

    static FloatKernel create(Node node, int opset) {
        return new LrnKernel(node);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        KernelArgs.requireFloating(x, "X");
        if (x.rank() < 3) {
            throw new IllegalArgumentException("LRN needs X of rank >= 3, got rank " + x.rank());
        }
        int n = x.dim(0);
        int c = x.dim(1);
        int plane = n * c == 0 ? 0 : x.size() / (n * c);
        int before = (size - 1) / 2;
        int after = size - 1 - before;
        float[] s = x.floats();
        float[] y = new float[s.length];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                int lo = Math.max(0, ch - before);
                int hi = Math.min(c - 1, ch + after);
                for (int p = 0; p < plane; p++) {
                    double sq = 0;
                    for (int k = lo; k <= hi; k++) {
                        double v = s[(b * c + k) * plane + p];
                        sq += v * v;
                    }
                    int i = (b * c + ch) * plane + p;
                    y[i] = (float) (s[i] / Math.pow(bias + alpha / size * sq, beta));
                }
            }
        }
        return new Tensor[] {Outputs.floats(x.dtype(), x.shape(), y)};
    }
}
