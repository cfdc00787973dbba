package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX InstanceNormalization (statistics per (n, c) over the spatial dimensions, per-channel scale
 * and bias) and LayerNormalization (statistics over dimensions axis..rank-1, scale and optional
 * bias broadcast to those dimensions, optional Mean and InvStdDev outputs). Mean and variance
 * (population, i.e. divided by the count) are accumulated in double; the normalised value is
 * (x - mean) / sqrt(var + epsilon) * scale + bias. Stateless and thread-safe.
 */
public final class NormalizationKernel implements FloatKernel {
    private final boolean layer;
    private final float epsilon;
    private final long axis;
    private final int outputs;

    private NormalizationKernel(Node node, boolean layer) {
        this.layer = layer;
        epsilon = node.attrFloat("epsilon", 1e-5f);
        axis = node.attrInt("axis", -1);
        outputs = node.outputs().size();
    }

    static FloatKernel instance(Node node, int opset) {
        return new NormalizationKernel(node, false);
    }

    static FloatKernel layer(Node node, int opset) {
        return new NormalizationKernel(node, true);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        KernelArgs.requireFloating(x, "X");
        Tensor scale = KernelArgs.required(inputs, 1, "scale").toFloat();
        Tensor bias = KernelArgs.optional(inputs, 2);
        int r = x.rank();
        int a = layer ? KernelArgs.axis(axis, r, "axis") : 2;
        if (!layer && r < 3) {
            throw new IllegalArgumentException("InstanceNormalization needs X of rank >= 3, got " + r);
        }
        int[] shape = x.shape();
        int groups = 1;
        for (int i = 0; i < a; i++) {
            groups *= shape[i];
        }
        int len = groups == 0 ? 0 : x.size() / groups;
        int[] normShape = Arrays.copyOfRange(shape, a, r);
        int[] si;
        int[] bi = null;
        if (layer) {
            si = IndexMaps.broadcast(scale.shape(), normShape);
            if (bias != null) {
                bi = IndexMaps.broadcast(bias.shape(), normShape);
            }
        } else {
            si = null;
        }
        float[] sd = scale.floats();
        float[] bd = bias == null ? null : bias.toFloat().floats();
        float[] xs = x.floats();
        float[] y = new float[xs.length];
        float[] means = new float[groups];
        float[] invStd = new float[groups];
        for (int g = 0; g < groups; g++) {
            int base = g * len;
            double sum = 0;
            for (int i = 0; i < len; i++) {
                sum += xs[base + i];
            }
            double mean = sum / len;
            double sq = 0;
            for (int i = 0; i < len; i++) {
                double d = xs[base + i] - mean;
                sq += d * d;
            }
            double var = sq / len;
            float m = (float) mean;
            float sdev = (float) Math.sqrt(var + epsilon);
            means[g] = m;
            invStd[g] = 1f / sdev;
            int ch = layer ? 0 : g % shape[1];
            for (int i = 0; i < len; i++) {
                float s = layer ? sd[si[i]] : sd[ch];
                float b = bd == null ? 0f : layer ? bd[bi[i]] : bd[ch];
                y[base + i] = (xs[base + i] - m) / sdev * s + b;
            }
        }
        Tensor out = Outputs.floats(x.dtype(), shape, y);
        if (!layer || outputs == 1) {
            return new Tensor[] {out};
        }
        int[] statShape = shape.clone();
        for (int i = a; i < r; i++) {
            statShape[i] = 1;
        }
        return new Tensor[] {
            out, Tensor.ofFloats(DType.FLOAT32, statShape, means), Tensor.ofFloats(DType.FLOAT32, statShape, invStd)
        };
    }
}
