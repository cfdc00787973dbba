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

    /** Groups whose sums run side by side: independent additions the CPU overlaps. */
    private static final int INTERLEAVE = 8;

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
     * double over its values in order; several groups at a time, so that their sums (each a chain of
     * dependent additions) overlap, with the same result as one group after another.
     */
    private void statistics(float[] xs, int len, float[] means, float[] sdevs) {
        int groups = means.length;
        double[] sum = new double[INTERLEAVE];
        double[] mean = new double[INTERLEAVE];
        for (int g0 = 0; g0 < groups; g0 += INTERLEAVE) {
            int count = Math.min(INTERLEAVE, groups - g0);
            Arrays.fill(sum, 0);
            for (int i = 0; i < len; i++) {
                for (int j = 0; j < count; j++) {
                    sum[j] += xs[(g0 + j) * len + i];
                }
            }
            for (int j = 0; j < count; j++) {
                mean[j] = sum[j] / len;
                sum[j] = 0;
            }
            for (int i = 0; i < len; i++) {
                for (int j = 0; j < count; j++) {
                    double d = xs[(g0 + j) * len + i] - mean[j];
                    sum[j] += d * d;
                }
            }
            for (int j = 0; j < count; j++) {
                double var = sum[j] / len;
                means[g0 + j] = (float) mean[j];
                sdevs[g0 + j] = (float) Math.sqrt(var + epsilon);
            }
        }
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
