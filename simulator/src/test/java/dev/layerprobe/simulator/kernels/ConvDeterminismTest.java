package dev.layerprobe.simulator.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Node;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

/**
 * The optimised Conv paths (depthwise 3x3 at strides 1 and 2, blocked 1x1 product, im2col 3x3,
 * the transposed product on small planes) give bit-identical results run to run and whatever the
 * thread count, and agree with a direct double-precision evaluation of the definition.
 */
class ConvDeterminismTest {
    private static final int SEED = 20240611;

    /** One conv layer of the chain: output channels, kernel size, stride, group (0 = depthwise). */
    private record Layer(int out, int k, int stride, int group) {}

    private static final List<Layer> CHAIN = List.of(
            new Layer(32, 3, 1, 0), // depthwise 3x3, 56x56
            new Layer(96, 1, 1, 1), // pointwise 32 -> 96
            new Layer(96, 3, 2, 0), // depthwise 3x3 stride 2 -> 28x28
            new Layer(48, 3, 1, 1), // dense 3x3 through im2col
            new Layer(40, 3, 2, 1), // dense 3x3 stride 2 -> 14x14
            new Layer(160, 1, 1, 1)); // pointwise on a small plane (transposed product)

    @Test
    void convChainIsBitIdenticalAcrossRunsAndThreadCounts() throws Exception {
        Random random = new Random(SEED);
        Tensor x = randomTensor(random, 1, 32, 56, 56);
        List<Tensor[]> params = new java.util.ArrayList<>();
        List<FloatKernel> kernels = new java.util.ArrayList<>();
        int channels = 32;
        for (Layer l : CHAIN) {
            int group = l.group == 0 ? channels : l.group;
            params.add(
                    new Tensor[] {randomTensor(random, l.out, channels / group, l.k, l.k), randomTensor(random, l.out)
                    });
            kernels.add(kernel(l, group));
            channels = l.out;
        }

        List<Tensor> first = runChain(kernels, params, x);
        List<Tensor> second = runChain(kernels, params, x);
        ForkJoinPool single = new ForkJoinPool(1);
        List<Tensor> oneThread;
        try {
            oneThread = single.submit(() -> runChain(kernels, params, x)).get();
        } finally {
            single.shutdown();
        }
        for (int i = 0; i < first.size(); i++) {
            assertArrayEquals(first.get(i).floats(), second.get(i).floats(), 0f, "layer " + i + " run to run");
            assertArrayEquals(first.get(i).floats(), oneThread.get(i).floats(), 0f, "layer " + i + " one thread");
        }

        Tensor in = x;
        for (int i = 0; i < CHAIN.size(); i++) {
            Layer l = CHAIN.get(i);
            int group = l.group == 0 ? in.dim(1) : l.group;
            double[][] ref = reference(in, params.get(i)[0], params.get(i)[1], l.stride, l.k / 2, group);
            double[] expected = ref[0];
            float[] actual = first.get(i).floats();
            assertEquals(expected.length, actual.length, "layer " + i + " size");
            for (int j = 0; j < expected.length; j++) {
                // A float32 sum of K terms errs by ~sqrt(K) ulp of the magnitude sum; a wrong or
                // missing tap errs by ~sum/K, far more for these K (9 to 432).
                double tol = 1e-5 * ref[1][j] + 1e-6;
                if (Math.abs(expected[j] - actual[j]) > tol) {
                    throw new AssertionError(
                            "layer " + i + " element " + j + ": expected " + expected[j] + ", got " + actual[j]);
                }
            }
            in = first.get(i);
        }
    }

    private static FloatKernel kernel(Layer l, int group) {
        Map<String, Attribute> attrs = new HashMap<>();
        attrs.put("group", Attribute.ofInt(group));
        attrs.put("strides", Attribute.ofInts(l.stride, l.stride));
        int p = l.k / 2;
        attrs.put("pads", Attribute.ofInts(p, p, p, p));
        return FloatKernels.create(new Node("conv", "Conv", "", List.of("x", "w", "b"), List.of("y"), attrs), 13);
    }

    private static List<Tensor> runChain(List<FloatKernel> kernels, List<Tensor[]> params, Tensor x) {
        List<Tensor> outs = new java.util.ArrayList<>();
        Tensor in = x;
        for (int i = 0; i < kernels.size(); i++) {
            in = kernels.get(i).run(new Tensor[] {in, params.get(i)[0], params.get(i)[1]})[0];
            outs.add(in);
        }
        return outs;
    }

    private static Tensor randomTensor(Random random, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian() * 0.5f;
        }
        return Tensor.ofFloats(shape, v);
    }

    /**
     * The Conv definition in double precision, square kernel, symmetric pad, dilation 1: the
     * outputs, and for each the sum of the magnitudes of its terms (the scale of rounding error).
     */
    private static double[][] reference(Tensor x, Tensor w, Tensor b, int stride, int pad, int group) {
        int c = x.dim(1);
        int h = x.dim(2);
        int wd = x.dim(3);
        int m = w.dim(0);
        int cg = w.dim(1);
        int k = w.dim(2);
        int oh = (h + 2 * pad - k) / stride + 1;
        int ow = (wd + 2 * pad - k) / stride + 1;
        float[] xs = x.floats();
        float[] ws = w.floats();
        double[] out = new double[m * oh * ow];
        double[] magnitude = new double[out.length];
        int mg = m / group;
        for (int oc = 0; oc < m; oc++) {
            int g = oc / mg;
            for (int r = 0; r < oh; r++) {
                for (int q = 0; q < ow; q++) {
                    double acc = b.floats()[oc];
                    double abs = Math.abs(acc);
                    for (int ci = 0; ci < cg; ci++) {
                        for (int kh = 0; kh < k; kh++) {
                            for (int kw = 0; kw < k; kw++) {
                                int ih = r * stride - pad + kh;
                                int iw = q * stride - pad + kw;
                                if (ih >= 0 && ih < h && iw >= 0 && iw < wd) {
                                    double term = (double) ws[((oc * cg + ci) * k + kh) * k + kw]
                                            * xs[((g * cg + ci) * h + ih) * wd + iw];
                                    acc += term;
                                    abs += Math.abs(term);
                                }
                            }
                        }
                    }
                    out[(oc * oh + r) * ow + q] = acc;
                    magnitude[(oc * oh + r) * ow + q] = abs;
                }
            }
        }
        assertEquals(c, group * cg);
        return new double[][] {out, magnitude};
    }
}
