package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX LpNormalization ({@code x / ||x||_p} along {@code axis}, p = 1 or 2) and GlobalLpPool
 * ({@code (sum |x|^p)^(1/p)} over the spatial dimensions of [N, C, d1, ...], any p >= 1). Norms
 * are accumulated in double and rounded once to float32; a zero norm gives NaN/inf as the ONNX
 * reference's division does. Stateless and thread-safe.
 */
public final class LpNormalizationKernel implements FloatKernel {
    private final boolean pool;
    private final long axis;
    private final long p;

    private LpNormalizationKernel(boolean pool, long axis, long p) {
        this.pool = pool;
        this.axis = axis;
        this.p = p;
    }

    static FloatKernel normalization(Node node, int opset) {
        return new LpNormalizationKernel(false, node.attrInt("axis", -1), KernelArgs.oneOf(node, "p", 2, 1, 2));
    }

    static FloatKernel globalPool(Node node, int opset) {
        long p = node.attrInt("p", 2);
        if (p < 1) {
            throw new IllegalArgumentException("p=" + p + " is not supported (valid: p >= 1)");
        }
        return new LpNormalizationKernel(true, 0, p);
    }

    private double norm(float[] s, int base, int len, int stride) {
        double acc = 0;
        for (int j = 0; j < len; j++) {
            double v = Math.abs(s[base + j * stride]);
            acc += p == 1 ? v : p == 2 ? v * v : Math.pow(v, (double) p);
        }
        return p == 1 ? acc : p == 2 ? Math.sqrt(acc) : Math.pow(acc, 1.0 / p);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        KernelArgs.requireFloating(x, "X");
        int[] shape = x.shape();
        float[] s = x.floats();
        if (pool) {
            if (x.rank() < 3) {
                throw new IllegalArgumentException("GlobalLpPool needs X of rank >= 3, got rank " + x.rank());
            }
            int nc = shape[0] * shape[1];
            int plane = nc == 0 ? 0 : x.size() / nc;
            float[] r = new float[nc];
            for (int i = 0; i < nc; i++) {
                r[i] = (float) norm(s, i * plane, plane, 1);
            }
            int[] out = shape.clone();
            for (int i = 2; i < out.length; i++) {
                out[i] = 1;
            }
            return new Tensor[] {Outputs.floats(x.dtype(), out, r)};
        }
        int a = KernelArgs.axis(axis, x.rank(), "axis");
        int len = shape[a];
        int inner = 1;
        for (int i = a + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        int outer = len * inner == 0 ? 0 : s.length / (len * inner);
        float[] r = new float[s.length];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < inner; j++) {
                int base = o * len * inner + j;
                float nrm = (float) norm(s, base, len, inner);
                for (int t = 0; t < len; t++) {
                    r[base + t * inner] = s[base + t * inner] / nrm;
                }
            }
        }
        return new Tensor[] {Outputs.floats(x.dtype(), shape, r)};
    }
}
