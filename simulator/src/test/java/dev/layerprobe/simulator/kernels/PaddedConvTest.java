package dev.layerprobe.simulator.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Node;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Stride-1 Convs through the zero-padded planes ({@link PaddedConv}) give, bit for bit, the float
 * sums of the definition in the im2col order (bias, then input channel, kernel row, kernel column
 * ascending, padding as zeros, one rounding per multiply and per add): odd sizes, kernels 1 to 7,
 * dilation, asymmetric padding, groups, batches and a fused clamp.
 */
class PaddedConvTest {
    @Test
    void paddedPlanesComputeTheIm2colSums() {
        Random r = new Random(31);
        int padded = 0;
        for (int trial = 0; trial < 120; trial++) {
            int n = 1 + r.nextInt(2);
            int group = 1 + r.nextInt(3);
            int cg = 1 + r.nextInt(5);
            int mg = 4 + r.nextInt(9);
            int kh = 1 + r.nextInt(7);
            int kw = 1 + r.nextInt(7);
            int dh = 1 + r.nextInt(2);
            int dwl = 1 + r.nextInt(2);
            int h = (kh - 1) * dh + 1 + r.nextInt(30);
            int w = (kw - 1) * dwl + 1 + r.nextInt(40);
            int[] pads = {r.nextInt(kh), r.nextInt(kw), r.nextInt(kh), r.nextInt(kw)};
            boolean clamp = r.nextBoolean();
            float lo = clamp ? -0.25f : Float.NEGATIVE_INFINITY;
            float hi = clamp ? 0.5f : Float.POSITIVE_INFINITY;
            int c = group * cg;
            int m = group * mg;
            float[] x = random(r, n * c * h * w);
            float[] wt = random(r, m * cg * kh * kw);
            float[] b = trial % 3 == 0 ? null : random(r, m);

            Map<String, Attribute> attrs = new HashMap<>();
            attrs.put("group", Attribute.ofInt(group));
            attrs.put("pads", Attribute.ofInts(pads[0], pads[1], pads[2], pads[3]));
            attrs.put("dilations", Attribute.ofInts(dh, dwl));
            Node node = new Node("conv", "Conv", "", List.of("x", "w", "b"), List.of("y"), attrs);
            ConvKernel kernel = new ConvKernel(node, lo, hi);
            Tensor[] in = b == null
                    ? new Tensor[] {
                        Tensor.ofFloats(new int[] {n, c, h, w}, x), Tensor.ofFloats(new int[] {m, cg, kh, kw}, wt)
                    }
                    : new Tensor[] {
                        Tensor.ofFloats(new int[] {n, c, h, w}, x),
                        Tensor.ofFloats(new int[] {m, cg, kh, kw}, wt),
                        Tensor.ofFloats(new int[] {m}, b)
                    };
            float[] got = kernel.run(in)[0].floats();

            int oh = h + pads[0] + pads[2] - (kh - 1) * dh;
            int ow = w + pads[1] + pads[3] - (kw - 1) * dwl;
            ConvKernel.Dim dimH = new ConvKernel.Dim(h, kh, 1, dh, pads[0], oh);
            ConvKernel.Dim dimW = new ConvKernel.Dim(w, kw, 1, dwl, pads[1], ow);
            if (PaddedConv.supports(dimH, dimW)) {
                padded++;
            }
            assertEquals(n * m * oh * ow, got.length, "trial " + trial + " size");
            for (int img = 0; img < n; img++) {
                for (int oc = 0; oc < m; oc++) {
                    int g = oc / mg;
                    for (int y = 0; y < oh; y++) {
                        for (int q = 0; q < ow; q++) {
                            float acc = b == null ? 0f : b[oc];
                            for (int ci = 0; ci < cg; ci++) {
                                for (int a = 0; a < kh; a++) {
                                    for (int e = 0; e < kw; e++) {
                                        int iy = y - pads[0] + a * dh;
                                        int ix = q - pads[1] + e * dwl;
                                        float v = iy >= 0 && iy < h && ix >= 0 && ix < w
                                                ? x[((img * c + g * cg + ci) * h + iy) * w + ix]
                                                : 0f;
                                        acc = acc + wt[((oc * cg + ci) * kh + a) * kw + e] * v;
                                    }
                                }
                            }
                            if (clamp) {
                                acc = Math.min(Math.max(acc, lo), hi);
                            }
                            int o = ((img * m + oc) * oh + y) * ow + q;
                            assertEquals(
                                    Float.floatToRawIntBits(acc),
                                    Float.floatToRawIntBits(got[o]),
                                    "trial " + trial + ", output " + o);
                        }
                    }
                }
            }
        }
        // The rest (small planes, many dropped columns) went through im2col, with the same sums.
        assertTrue(padded >= 60, "only " + padded + " of 120 geometries used the padded planes");
    }

    private static float[] random(Random r, int size) {
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            // Zeros (as after a Relu), negatives for signed zeros, and wide exponents.
            v[i] = r.nextInt(6) == 0 ? 0f : (float) (r.nextGaussian() * Math.pow(10, r.nextInt(5) - 2));
        }
        return v;
    }
}
