package dev.layerprobe.simulator.kernels;

import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.tensor.Shapes;
import dev.layerprobe.simulator.tensor.Tensor;

/**
 * ONNX Resize (opset 10+: X, scales; 11+: X, roi, scales, sizes) and Upsample (scales attribute
 * before opset 9, input from 9; asymmetric coordinates), modes nearest and linear over any
 * dimensions. Output size is floor(in * scale) unless sizes are given. Linear interpolation is
 * applied one dimension at a time in float32. Cubic mode, tf_crop_and_resize, antialias and the
 * opset-18 axes / keep_aspect_ratio_policy attributes are rejected. Stateless and thread-safe.
 */
public final class ResizeKernel implements FloatKernel {
    private final boolean upsample;
    private final boolean linear;
    private final String transform;
    private final String nearestMode;
    private final float[] attrScales;
    private final int opset;

    private ResizeKernel(Node node, int opset, boolean upsample) {
        this.upsample = upsample;
        this.opset = opset;
        String mode = KernelArgs.oneOf(node, "mode", "nearest", "nearest", "linear", "bilinear");
        linear = !mode.equals("nearest");
        if (upsample) {
            transform = "asymmetric";
            nearestMode = "floor";
        } else {
            transform = KernelArgs.oneOf(node, "coordinate_transformation_mode", "half_pixel", "half_pixel",
                    "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn");
            nearestMode = KernelArgs.oneOf(node, "nearest_mode", opset < 11 ? "floor" : "round_prefer_floor",
                    "round_prefer_floor", "round_prefer_ceil", "floor", "ceil");
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
        if (upsample) {
            scales = opset < 9 ? attrScales : KernelArgs.required(inputs, 1, "scales").toFloat().floats();
        } else if (opset < 11) {
            scales = KernelArgs.required(inputs, 1, "scales").toFloat().floats();
        } else {
            Tensor s = KernelArgs.optional(inputs, 2);
            sizesT = KernelArgs.optional(inputs, 3);
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
            throw new IllegalArgumentException("scales or sizes must be given for every one of the " + r + " dimensions");
        }
        if (!linear) {
            int[] strides = Shapes.strides(in);
            int[][] src = new int[r][];
            for (int d = 0; d < r; d++) {
                src[d] = new int[out[d]];
                for (int o = 0; o < out[d]; o++) {
                    src[d][o] = nearest(original(o, scale[d], in[d], out[d]), in[d]) * strides[d];
                }
            }
            int n = Math.toIntExact(Shapes.size(out));
            int[] map = new int[n];
            int[] c = new int[r];
            for (int p = 0; p < n; p++) {
                int off = 0;
                for (int d = 0; d < r; d++) {
                    off += src[d][c[d]];
                }
                map[p] = off;
                for (int d = r - 1; d >= 0 && ++c[d] == out[d]; d--) {
                    c[d] = 0;
                }
            }
            return new Tensor[] {Outputs.gather(x, out, map)};
        }
        KernelArgs.requireFloating(x, "X");
        float[] data = x.floats();
        int[] shape = in.clone();
        for (int d = 0; d < r; d++) {
            if (out[d] == shape[d] && scale[d] == 1f) {
                continue;
            }
            data = linearAlong(data, shape, d, out[d], scale[d]);
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
            float c = original(o, scale, len, outLen);
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

    /** The input coordinate of output coordinate o, per coordinate_transformation_mode. */
    private float original(int o, float scale, int in, int out) {
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
