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
        float[] sdevs = new float[groups];
        statistics(xs, len, means, sdevs);
        // Scale and bias that are one value per position (the usual [len] vectors) are read
        // directly, through a scratch row, so that the loop vectorises (see BinaryKernels).
        boolean direct = layer && identity(si) && (bi == null || identity(bi));
        float[] row = direct ? new float[len] : null;
        for (int g = 0; g < groups; g++) {
            int base = g * len;
            float m = means[g];
            float sdev = sdevs[g];
            invStd[g] = 1f / sdev;
            if (direct) {
                System.arraycopy(xs, base, row, 0, len);
                if (bd == null) {
                    for (int i = 0; i < len; i++) {
                        row[i] = (row[i] - m) / sdev * sd[i] + 0f;
                    }
                } else {
                    for (int i = 0; i < len; i++) {
                        row[i] = (row[i] - m) / sdev * sd[i] + bd[i];
                    }
                }
                System.arraycopy(row, 0, y, base, len);
                continue;
            }
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

    /**
     * Mean and sqrt(var + epsilon) of each group of len values, as float32. Each group's sums run in
     * double over its values in order; four groups at a time, so that their sums (each a chain of
     * dependent additions) overlap, with the same result as one group after another.
     */
    private void statistics(float[] xs, int len, float[] means, float[] sdevs) {
        int groups = means.length;
        int g = 0;
        for (; g + 4 <= groups; g += 4) {
            int b0 = g * len;
            int b1 = b0 + len;
            int b2 = b1 + len;
            int b3 = b2 + len;
            double s0 = 0;
            double s1 = 0;
            double s2 = 0;
            double s3 = 0;
            for (int i = 0; i < len; i++) {
                s0 += xs[b0 + i];
                s1 += xs[b1 + i];
                s2 += xs[b2 + i];
                s3 += xs[b3 + i];
            }
            double m0 = s0 / len;
            double m1 = s1 / len;
            double m2 = s2 / len;
            double m3 = s3 / len;
            double q0 = 0;
            double q1 = 0;
            double q2 = 0;
            double q3 = 0;
            for (int i = 0; i < len; i++) {
                double d0 = xs[b0 + i] - m0;
                double d1 = xs[b1 + i] - m1;
                double d2 = xs[b2 + i] - m2;
                double d3 = xs[b3 + i] - m3;
                q0 += d0 * d0;
                q1 += d1 * d1;
                q2 += d2 * d2;
                q3 += d3 * d3;
            }
            store(g, m0, q0, len, means, sdevs);
            store(g + 1, m1, q1, len, means, sdevs);
            store(g + 2, m2, q2, len, means, sdevs);
            store(g + 3, m3, q3, len, means, sdevs);
        }
        for (; g < groups; g++) {
            int b = g * len;
            double sum = 0;
            for (int i = 0; i < len; i++) {
                sum += xs[b + i];
            }
            double mean = sum / len;
            double sq = 0;
            for (int i = 0; i < len; i++) {
                double d = xs[b + i] - mean;
                sq += d * d;
            }
            store(g, mean, sq, len, means, sdevs);
        }
    }

    private void store(int g, double mean, double sq, int len, float[] means, float[] sdevs) {
        means[g] = (float) mean;
        sdevs[g] = (float) Math.sqrt(sq / len + epsilon);
    }

    private static boolean identity(int[] map) {
        for (int i = 0; i < map.length; i++) {
            if (map[i] != i) {
                return false;
            }
        }
        return true;
    }
}
