package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX Resize (opset 10: X, scales, asymmetric; 11+: X, roi, scales, sizes) and Upsample (scales
 * attribute before opset 9, input from 9; asymmetric coordinates), modes nearest, linear and cubic over any
 * dimensions. Output size is floor(in * scale) unless sizes are given. Interpolation is applied one
 * dimension at a time: linear in float32, cubic (Keys kernel with {@code cubic_coeff_a}, default
 * -0.75; taps beyond the edge repeat the edge value, or with {@code exclude_outside=1} get weight 0
 * and the rest are renormalised) in double rounded once per dimension. tf_crop_and_resize samples
 * the {@code roi} box and writes {@code extrapolation_value} where a coordinate falls outside the
 * input; its dimensions are processed innermost first, as in the ONNX reference, so an
 * out-of-range inner coordinate blends the extrapolation value into the outer interpolation.
 * Antialias and the opset-18 axes / keep_aspect_ratio_policy attributes are rejected. Stateless
 * and thread-safe.
 */
public final class ResizeKernel implements FloatKernel {
    private final boolean upsample;
    private final boolean linear;
    private final boolean cubic;
    private final double cubicA;
    private final boolean excludeOutside;
    private final float extrapolation;
    private final String transform;
    private final String nearestMode;
    private final float[] attrScales;
    private final int opset;

    private ResizeKernel(Node node, int opset, boolean upsample) {
        this.upsample = upsample;
        this.opset = opset;
        String mode = upsample
                ? KernelArgs.oneOf(node, "mode", "nearest", "nearest", "linear", "bilinear")
                : KernelArgs.oneOf(node, "mode", "nearest", "nearest", "linear", "bilinear", "cubic");
        cubic = mode.equals("cubic");
        linear = !mode.equals("nearest");
        cubicA = node.attrFloat("cubic_coeff_a", -0.75f);
        excludeOutside = KernelArgs.oneOf(node, "exclude_outside", 0, 0, 1) == 1;
        extrapolation = node.attrFloat("extrapolation_value", 0f);
        if (upsample) {
            transform = "asymmetric";
            nearestMode = "floor";
        } else {
            // Resize 10 has no such attribute: its coordinates are Upsample's, asymmetric.
            transform = KernelArgs.oneOf(
                    node,
                    "coordinate_transformation_mode",
                    opset < 11 ? "asymmetric" : "half_pixel",
                    "half_pixel",
                    "pytorch_half_pixel",
                    "align_corners",
                    "asymmetric",
                    "tf_half_pixel_for_nn",
                    "tf_crop_and_resize");
            nearestMode = KernelArgs.oneOf(
                    node,
                    "nearest_mode",
                    opset < 11 ? "floor" : "round_prefer_floor",
                    "round_prefer_floor",
                    "round_prefer_ceil",
                    "floor",
                    "ceil");
            KernelArgs.oneOf(node, "antialias", 0, 0);
            KernelArgs.oneOf(node, "keep_aspect_ratio_policy", "stretch", "stretch");
            if (node.attr("axes") != null) {
                throw new IllegalArgumentException("attribute axes is not supported");
            }
        }
        attrScales = node.attrFloats("scales", null);
    }

    static FloatKernel resize(Node node, int opset) {
        return new ResizeKernel(node, opset, false);
    }

    static FloatKernel upsample(Node node, int opset) {
        return new ResizeKernel(node, opset, true);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        int r = x.rank();
        int[] in = x.shape();
        float[] scales;
        Tensor sizesT = null;
        float[] roi = null;
        if (upsample) {
            scales = opset < 9
                    ? attrScales
                    : KernelArgs.required(inputs, 1, "scales").toFloat().floats();
        } else if (opset < 11) {
            scales = KernelArgs.required(inputs, 1, "scales").toFloat().floats();
        } else {
            Tensor s = KernelArgs.optional(inputs, 2);
            sizesT = KernelArgs.optional(inputs, 3);
            Tensor roiT = KernelArgs.optional(inputs, 1);
            if (transform.equals("tf_crop_and_resize")) {
                if (roiT == null || roiT.size() != 2 * r) {
                    throw new IllegalArgumentException("tf_crop_and_resize needs roi with " + 2 * r + " values, got "
                            + (roiT == null ? "none" : roiT.size()));
                }
                roi = roiT.toFloat().floats();
            }
            scales = s == null || s.size() == 0 ? null : s.toFloat().floats();
        }
        int[] out = new int[r];
        float[] scale = new float[r];
        if (sizesT != null && sizesT.size() > 0) {
            long[] sizes = KernelArgs.longs(sizesT, "sizes");
            for (int i = 0; i < r; i++) {
                out[i] = Math.toIntExact(sizes[i]);
                scale[i] = (float) out[i] / in[i];
            }
        } else if (scales != null && scales.length == r) {
            for (int i = 0; i < r; i++) {
                scale[i] = scales[i];
                out[i] = (int) Math.floor(in[i] * (double) scales[i]);
            }
        } else {
            throw new IllegalArgumentException(
                    "scales or sizes must be given for every one of the " + r + " dimensions");
        }
        if (!linear) {
            int[] strides = Shapes.strides(in);
            int[][] src = new int[r][];
            boolean outside = false;
            for (int d = 0; d < r; d++) {
                src[d] = new int[out[d]];
                for (int o = 0; o < out[d]; o++) {
                    float c = original(o, scale[d], in[d], out[d], roi, d);
                    boolean out0 = roi != null && (c < 0 || c > in[d] - 1);
                    outside |= out0;
                    src[d][o] = out0 ? -1 : nearest(c, in[d]) * strides[d];
                }
            }
            int n = Math.toIntExact(Shapes.size(out));
            int[] map = new int[n];
            int[] c = new int[r];
            for (int p = 0; p < n; p++) {
                int off = 0;
                for (int d = 0; d < r && off >= 0; d++) {
                    off = src[d][c[d]] < 0 ? -1 : off + src[d][c[d]];
                }
                map[p] = off;
                for (int d = r - 1; d >= 0 && ++c[d] == out[d]; d--) {
                    c[d] = 0;
                }
            }
            return new Tensor[] {outside ? gatherOrExtrapolate(x, out, map) : Outputs.gather(x, out, map)};
        }
        KernelArgs.requireFloating(x, "X");
        float[] data = x.floats();
        int[] shape = in.clone();
        for (int k = 0; k < r; k++) {
            int d = roi != null ? r - 1 - k : k;
            if (out[d] == shape[d] && scale[d] == 1f && roi == null) {
                continue;
            }
            data = cubic || roi != null
                    ? tapsAlong(data, shape, d, out[d], scale[d], roi)
                    : linearAlong(data, shape, d, out[d], scale[d]);
            shape[d] = out[d];
        }
        return new Tensor[] {Outputs.floats(x.dtype(), shape, data)};
    }

    private float[] linearAlong(float[] src, int[] shape, int d, int outLen, float scale) {
        int len = shape[d];
        int outer = 1;
        for (int i = 0; i < d; i++) {
            outer *= shape[i];
        }
        int inner = 1;
        for (int i = d + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        int[] i0 = new int[outLen];
        int[] i1 = new int[outLen];
        float[] w = new float[outLen];
        for (int o = 0; o < outLen; o++) {
            float c = original(o, scale, len, outLen, null, 0);
            c = Math.max(0f, Math.min(c, len - 1));
            int f = (int) Math.floor(c);
            i0[o] = f;
            i1[o] = Math.min(f + 1, len - 1);
            w[o] = c - f;
        }
        float[] dst = new float[outer * outLen * inner];
        for (int a = 0; a < outer; a++) {
            for (int o = 0; o < outLen; o++) {
                int s0 = (a * len + i0[o]) * inner;
                int s1 = (a * len + i1[o]) * inner;
                int t = (a * outLen + o) * inner;
                float wo = w[o];
                for (int j = 0; j < inner; j++) {
                    dst[t + j] = src[s0 + j] * (1f - wo) + src[s1 + j] * wo;
                }
            }
        }
        return dst;
    }

    /**
     * Cubic, or linear with tf_crop_and_resize: each output element is a weighted sum of taps
     * along dimension d computed in double, or the extrapolation value when the coordinate is
     * outside the input.
     */
    private float[] tapsAlong(float[] src, int[] shape, int d, int outLen, float scale, float[] roi) {
        int len = shape[d];
        int outer = 1;
        for (int i = 0; i < d; i++) {
            outer *= shape[i];
        }
        int inner = 1;
        for (int i = d + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        int taps = cubic ? 4 : 2;
        int[][] idx = new int[outLen][];
        double[][] w = new double[outLen][];
        for (int o = 0; o < outLen; o++) {
            float c = original(o, scale, len, outLen, roi, d);
            if (roi != null && (c < 0 || c > len - 1)) {
                continue;
            }
            int f = (int) Math.floor(c);
            double t = c - f;
            idx[o] = new int[taps];
            w[o] = cubic ? cubicCoefficients(t) : new double[] {1 - t, t};
            int first = cubic ? f - 1 : f;
            double kept = 0;
            for (int j = 0; j < taps; j++) {
                int i = first + j;
                if (excludeOutside && (i < 0 || i >= len)) {
                    w[o][j] = 0;
                }
                kept += w[o][j];
                idx[o][j] = Math.max(0, Math.min(len - 1, i));
            }
            if (excludeOutside) {
                for (int j = 0; j < taps; j++) {
                    w[o][j] /= kept;
                }
            }
        }
        float[] dst = new float[outer * outLen * inner];
        for (int a = 0; a < outer; a++) {
            for (int o = 0; o < outLen; o++) {
                int t = (a * outLen + o) * inner;
                if (idx[o] == null) {
                    java.util.Arrays.fill(dst, t, t + inner, extrapolation);
                    continue;
                }
                for (int j = 0; j < inner; j++) {
                    double v = 0;
                    for (int k = 0; k < taps; k++) {
                        v += w[o][k] * src[(a * len + idx[o][k]) * inner + j];
                    }
                    dst[t + j] = (float) v;
                }
            }
        }
        return dst;
    }

    /** Keys cubic convolution weights of taps floor(c)-1 .. floor(c)+2 for fraction t = c - floor(c). */
    private double[] cubicCoefficients(double t) {
        double a = cubicA;
        double u = 1 - t;
        return new double[] {
            ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
            ((a + 2) * t - (a + 3)) * t * t + 1,
            ((a + 2) * u - (a + 3)) * u * u + 1,
            ((a * (u + 1) - 5 * a) * (u + 1) + 8 * a) * (u + 1) - 4 * a,
        };
    }

    /** Nearest-mode output of tf_crop_and_resize: map entries of -1 take the extrapolation value. */
    private Tensor gatherOrExtrapolate(Tensor x, int[] shape, int[] map) {
        if (x.isFloating()) {
            float[] s = x.floats();
            float[] r = new float[map.length];
            for (int i = 0; i < r.length; i++) {
                r[i] = map[i] < 0 ? extrapolation : s[map[i]];
            }
            return Outputs.floats(x.dtype(), shape, r);
        }
        long[] s = x.longs();
        long[] r = new long[map.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = map[i] < 0 ? (long) extrapolation : s[map[i]];
        }
        return Outputs.longs(x.dtype(), shape, r);
    }

    /**
     * The input coordinate of output coordinate o, per coordinate_transformation_mode; roi (start
     * values, then end values, normalised) is only used by tf_crop_and_resize, for dimension d.
     */
    private float original(int o, float scale, int in, int out, float[] roi, int d) {
        if (roi != null) {
            float r0 = roi[d];
            float r1 = roi[d + roi.length / 2];
            return out > 1
                    ? (float) (r0 * (in - 1) + o * (double) (r1 - r0) * (in - 1) / (out - 1))
                    : (float) (0.5 * (r0 + r1) * (in - 1));
        }
        return switch (transform) {
            case "half_pixel" -> (o + 0.5f) / scale - 0.5f;
            case "pytorch_half_pixel" -> out > 1 ? (o + 0.5f) / scale - 0.5f : 0f;
            // The resized length is in * scale, unrounded, as in the ONNX reference implementation.
            case "align_corners" -> out == 1 ? 0f : (float) ((double) o * (in - 1) / (in * (double) scale - 1));
            case "tf_half_pixel_for_nn" -> (o + 0.5f) / scale;
            default -> o / scale;
        };
    }

    private int nearest(float c, int in) {
        double f = Math.floor(c);
        double idx = switch (nearestMode) {
            case "floor" -> f;
            case "ceil" -> Math.ceil(c);
            case "round_prefer_ceil" -> c - f >= 0.5 ? f + 1 : f;
            default -> c - f > 0.5 ? f + 1 : f;
        };
        return (int) Math.max(0, Math.min(in - 1, idx));
    }
}
