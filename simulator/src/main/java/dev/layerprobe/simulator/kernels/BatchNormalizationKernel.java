package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX BatchNormalization at inference: y = (x - mean) / sqrt(var + epsilon) * scale + B per
 * channel (dimension 1), evaluated in float32 in that order. Training mode (the
 * {@code training_mode} attribute, or the running-statistics outputs before opset 14) and
 * {@code spatial=0} are rejected. Stateless and thread-safe.
 */
public final class BatchNormalizationKernel implements FloatKernel {
    private final float epsilon;

    BatchNormalizationKernel(Node node, int opset) {
        epsilon = node.attrFloat("epsilon", 1e-5f);
        KernelArgs.oneOf(node, "training_mode", 0, 0);
        if (opset < 9) {
            KernelArgs.oneOf(node, "spatial", 1, 1);
        }
        if (node.outputs().stream().skip(1).anyMatch(o -> !o.isEmpty())) {
            throw new IllegalArgumentException("outputs running_mean/running_var (training) are not supported");
        }
    }

    static FloatKernel create(Node node, int opset) {
        return new BatchNormalizationKernel(node, opset);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        KernelArgs.requireFloating(x, "X");
        float[] scale = KernelArgs.required(inputs, 1, "scale").toFloat().floats();
        float[] bias = KernelArgs.required(inputs, 2, "B").toFloat().floats();
        float[] mean = KernelArgs.required(inputs, 3, "mean").toFloat().floats();
        float[] var = KernelArgs.required(inputs, 4, "var").toFloat().floats();
        int n = x.dim(0);
        int c = x.rank() > 1 ? x.dim(1) : 1;
        if (scale.length != c || bias.length != c || mean.length != c || var.length != c) {
            throw new IllegalArgumentException(
                    "per-channel inputs must have " + c + " values for X " + Arrays.toString(x.shape()));
        }
        int plane = n * c == 0 ? 0 : x.size() / (n * c);
        float[] s = x.floats();
        float[] r = new float[s.length];
        for (int ch = 0; ch < c; ch++) {
            float sd = (float) Math.sqrt(var[ch] + epsilon);
            float m = mean[ch];
            float g = scale[ch];
            float b = bias[ch];
            for (int b0 = 0; b0 < n; b0++) {
                int base = (b0 * c + ch) * plane;
                for (int i = base; i < base + plane; i++) {
                    r[i] = (s[i] - m) / sd * g + b;
                }
            }
        }
        return new Tensor[] {Outputs.floats(x.dtype(), x.shape(), r)};
    }
}
