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
import org.junit.jupiter.api.Test;

/**
 * Depthwise convs give exactly the float32 definition evaluated in kernel order with padding read
 * as zeros, for odd and even planes, small ones (several per pass) and large ones (in bands of
 * rows), 3x3, 5x5, 1x1 and non-square kernels, dilations 1 and 2, strides 1 and 2 (also different
 * per direction), symmetric, asymmetric and auto pads, a batch of images, with and without a fused
 * clamp.
 */
class DepthwiseConvTest {
    /**
     * Channels, height, width, strides, pads (top, left, bottom, right) or null for SAME_UPPER,
     * kernel height and width, dilation.
     */
    private record Case(int c, int h, int w, int sh, int sw, int[] pads, int kh, int kw, int dil) {
        Case(int c, int h, int w, int stride, int[] pads) {
            this(c, h, w, stride, stride, pads, 3, 3, 1);
        }
    }

    private static final List<Case> CASES = List.of(
            new Case(5, 7, 7, 1, new int[] {1, 1, 1, 1}),
            new Case(3, 14, 14, 2, new int[] {1, 1, 1, 1}),
            new Case(4, 15, 13, 2, new int[] {1, 1, 1, 1}),
            new Case(3, 9, 11, 1, new int[] {0, 0, 0, 0}),
            new Case(3, 9, 11, 2, new int[] {0, 0, 0, 0}),
            new Case(2, 8, 10, 2, new int[] {0, 0, 1, 1}),
            new Case(2, 8, 10, 1, new int[] {2, 0, 1, 2}),
            new Case(3, 10, 9, 2, new int[] {2, 2, 2, 2}),
            new Case(6, 12, 12, 2, null),
            new Case(7, 5, 6, 1, null),
            new Case(130, 7, 7, 1, new int[] {1, 1, 1, 1}),
            new Case(20, 28, 28, 2, new int[] {1, 1, 1, 1}),
            new Case(3, 1, 1, 1, new int[] {1, 1, 1, 1}),
            new Case(3, 2, 3, 2, new int[] {1, 1, 1, 1}),
            // Planes too large for one call, done in bands of rows.
            new Case(2, 70, 67, 1, new int[] {1, 1, 1, 1}),
            new Case(1, 50, 130, 1, new int[] {2, 0, 0, 2}),
            new Case(2, 64, 300, 2, new int[] {1, 1, 1, 1}),
            new Case(1, 65, 301, 2, new int[] {0, 1, 2, 0}),
            new Case(1, 67, 299, 2, null),
            // Other kernels and dilations, large planes of 3x3 too (zero-padded phase planes).
            new Case(4, 9, 11, 1, 1, new int[] {2, 2, 2, 2}, 5, 5, 1),
            new Case(3, 17, 14, 2, 2, new int[] {2, 1, 2, 2}, 5, 5, 1),
            new Case(3, 16, 15, 1, 1, new int[] {2, 2, 2, 2}, 3, 3, 2),
            new Case(2, 15, 16, 2, 2, new int[] {1, 3, 2, 0}, 3, 3, 2),
            new Case(3, 12, 13, 2, 1, new int[] {1, 1, 1, 1}, 3, 3, 1),
            new Case(3, 12, 13, 1, 2, new int[] {0, 1, 1, 0}, 3, 5, 1),
            new Case(5, 10, 10, 2, 2, new int[] {0, 0, 0, 0}, 1, 1, 1),
            new Case(2, 9, 8, 2, 2, null, 5, 5, 1),
            new Case(2, 70, 67, 2, 2, new int[] {2, 2, 2, 2}, 5, 5, 1),
            new Case(1, 40, 200, 1, 1, new int[] {4, 4, 4, 4}, 5, 5, 2),
            new Case(3, 113, 111, 2, 2, new int[] {1, 1, 1, 1}, 3, 3, 1),
            new Case(2, 57, 56, 1, 1, new int[] {1, 1, 1, 1}, 3, 3, 1));

    @Test
    void depthwiseMatchesTheDefinition() {
        Random random = new Random(3);
        for (Case tc : CASES) {
            for (int images : new int[] {1, 2}) {
                for (boolean clamp : new boolean[] {false, true}) {
                    check(random, tc, images, clamp);
                }
            }
        }
    }

    @Test
    void oneDimensionalDepthwiseMatchesTheDefinition() {
        Random random = new Random(4);
        for (int stride : new int[] {1, 2}) {
            for (int k : new int[] {1, 3, 5}) {
                for (int width : new int[] {1, 7, 40, 5000}) {
                    int c = 3;
                    int pad = k / 2;
                    Map<String, Attribute> attrs = new HashMap<>();
                    attrs.put("group", Attribute.ofInt(c));
                    attrs.put("strides", Attribute.ofInts(stride));
                    attrs.put("pads", Attribute.ofInts(pad, pad + 1));
                    Node node = new Node("dw", "Conv", "", List.of("x", "w", "b"), List.of("y"), attrs);
                    float[] x = random(random, 2 * c * width);
                    float[] w = random(random, c * k);
                    float[] b = random(random, c);
                    Tensor y = FloatKernels.create(node, 13)
                            .run(new Tensor[] {
                                Tensor.ofFloats(new int[] {2, c, width}, x),
                                Tensor.ofFloats(new int[] {c, 1, k}, w),
                                Tensor.ofFloats(new int[] {c}, b)
                            })[0];
                    int ow = (width + 2 * pad + 1 - k) / stride + 1;
                    assertArrayEquals(new int[] {2, c, ow}, y.shape());
                    float[] actual = y.floats();
                    for (int t = 0; t < 2 * c; t++) {
                        for (int j = 0; j < ow; j++) {
                            float acc = b[t % c];
                            for (int v = 0; v < k; v++) {
                                int xi = j * stride - pad + v;
                                acc = acc + w[(t % c) * k + v] * (xi >= 0 && xi < width ? x[t * width + xi] : 0f);
                            }
                            assertEquals(
                                    Float.floatToRawIntBits(acc),
                                    Float.floatToRawIntBits(actual[t * ow + j]),
                                    "stride " + stride + " k " + k + " width " + width + " at " + (t * ow + j));
                        }
                    }
                }
            }
        }
    }

    private static void check(Random random, Case tc, int images, boolean clamp) {
        Map<String, Attribute> attrs = new HashMap<>();
        attrs.put("group", Attribute.ofInt(tc.c));
        attrs.put("strides", Attribute.ofInts(tc.sh, tc.sw));
        attrs.put("dilations", Attribute.ofInts(tc.dil, tc.dil));
        if (tc.pads == null) {
            attrs.put("auto_pad", Attribute.ofString("SAME_UPPER"));
        } else {
            attrs.put("pads", Attribute.ofInts(tc.pads[0], tc.pads[1], tc.pads[2], tc.pads[3]));
        }
        Node node = new Node("dw", "Conv", "", List.of("x", "w", "b"), List.of("y"), attrs);
        FloatKernel kernel = clamp ? FloatKernels.createClamped(node, 13, 0f, 0.6f) : FloatKernels.create(node, 13);
        float[] x = random(random, images * tc.c * tc.h * tc.w);
        int kk = tc.kh * tc.kw;
        float[] w = random(random, tc.c * kk);
        float[] b = random(random, tc.c);
        Tensor y = kernel.run(new Tensor[] {
            Tensor.ofFloats(new int[] {images, tc.c, tc.h, tc.w}, x),
            Tensor.ofFloats(new int[] {tc.c, 1, tc.kh, tc.kw}, w),
            Tensor.ofFloats(new int[] {tc.c}, b)
        })[0];

        int spanH = (tc.kh - 1) * tc.dil + 1;
        int spanW = (tc.kw - 1) * tc.dil + 1;
        int padTop;
        int padLeft;
        int oh;
        int ow;
        if (tc.pads == null) {
            oh = (tc.h + tc.sh - 1) / tc.sh;
            ow = (tc.w + tc.sw - 1) / tc.sw;
            padTop = Math.max(0, (oh - 1) * tc.sh + spanH - tc.h) / 2;
            padLeft = Math.max(0, (ow - 1) * tc.sw + spanW - tc.w) / 2;
        } else {
            padTop = tc.pads[0];
            padLeft = tc.pads[1];
            oh = (tc.h + tc.pads[0] + tc.pads[2] - spanH) / tc.sh + 1;
            ow = (tc.w + tc.pads[1] + tc.pads[3] - spanW) / tc.sw + 1;
        }
        assertArrayEquals(new int[] {images, tc.c, oh, ow}, y.shape(), tc.toString());
        float[] actual = y.floats();
        for (int img = 0; img < images; img++) {
            for (int ch = 0; ch < tc.c; ch++) {
                int xb = (img * tc.c + ch) * tc.h * tc.w;
                for (int r = 0; r < oh; r++) {
                    for (int q = 0; q < ow; q++) {
                        float acc = b[ch];
                        for (int kh = 0; kh < tc.kh; kh++) {
                            for (int kw = 0; kw < tc.kw; kw++) {
                                int ih = r * tc.sh - padTop + kh * tc.dil;
                                int iw = q * tc.sw - padLeft + kw * tc.dil;
                                float v = ih >= 0 && ih < tc.h && iw >= 0 && iw < tc.w ? x[xb + ih * tc.w + iw] : 0f;
                                acc = acc + w[ch * kk + kh * tc.kw + kw] * v;
                            }
                        }
                        if (clamp) {
                            acc = Math.min(Math.max(acc, 0f), 0.6f);
                        }
                        int o = ((img * tc.c + ch) * oh + r) * ow + q;
                        assertEquals(
                                Float.floatToRawIntBits(acc),
                                Float.floatToRawIntBits(actual[o]),
                                tc + " images=" + images + " clamp=" + clamp + " at " + o);
                    }
                }
            }
        }
    }

    private static float[] random(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
