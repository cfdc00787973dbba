package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX MaxPool and AveragePool over any number of spatial dimensions of [N, C, d1, ...]:
 * kernel_shape, strides, dilations, pads or auto_pad, ceil_mode; AveragePool's
 * count_include_pad; MaxPool's optional Indices output (flat index into X, row-major or, with
 * storage_order=1, column-major over the spatial dimensions). Averages sum in float32 in window
 * order and divide once. MaxPool also accepts integer tensors. Stateless and thread-safe.
 */
public final class PoolKernel implements FloatKernel {
    private final boolean max;
    private final String autoPad;
    private final long[] kernelShape;
    private final long[] strides;
    private final long[] dilations;
    private final long[] pads;
    private final boolean ceilMode;
    private final boolean countIncludePad;
    private final boolean columnMajor;
    private final boolean indices;

    private PoolKernel(Node node, boolean max) {
        this.max = max;
        autoPad = KernelArgs.oneOf(node, "auto_pad", "NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID");
        kernelShape = node.attrInts("kernel_shape", null);
        if (kernelShape == null) {
            throw new IllegalArgumentException("attribute kernel_shape is required");
        }
        strides = node.attrInts("strides", null);
        dilations = node.attrInts("dilations", null);
        pads = node.attrInts("pads", null);
        ceilMode = KernelArgs.oneOf(node, "ceil_mode", 0, 0, 1) == 1;
        countIncludePad = KernelArgs.oneOf(node, "count_include_pad", 0, 0, 1) == 1;
        columnMajor = KernelArgs.oneOf(node, "storage_order", 0, 0, 1) == 1;
        indices = max && node.outputs().size() > 1 && !node.output(1).isEmpty();
    }

    static FloatKernel maxPool(Node node, int opset) {
        return new PoolKernel(node, true);
    }

    static FloatKernel averagePool(Node node, int opset) {
        return new PoolKernel(node, false);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        if (!max) {
            KernelArgs.requireFloating(x, "X");
        }
        int sp = x.rank() - 2;
        if (sp < 1 || kernelShape.length != sp) {
            throw new IllegalArgumentException(
                    "kernel_shape=" + Arrays.toString(kernelShape) + " does not fit X " + Arrays.toString(x.shape()));
        }
        int[] in = Arrays.copyOfRange(x.shape(), 2, x.rank());
        int[] k = new int[sp];
        int[] s = new int[sp];
        int[] d = new int[sp];
        int[] begin = new int[sp];
        int[] end = new int[sp];
        int[] out = new int[sp];
        for (int i = 0; i < sp; i++) {
            k[i] = Math.toIntExact(kernelShape[i]);
            s[i] = strides == null ? 1 : Math.toIntExact(strides[i]);
            d[i] = dilations == null ? 1 : Math.toIntExact(dilations[i]);
            int span = (k[i] - 1) * d[i] + 1;
            if (autoPad.startsWith("SAME")) {
                out[i] = (in[i] + s[i] - 1) / s[i];
                int total = Math.max(0, (out[i] - 1) * s[i] + span - in[i]);
                begin[i] = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
                end[i] = total - begin[i];
                continue;
            }
            if (autoPad.equals("NOTSET") && pads != null) {
                begin[i] = Math.toIntExact(pads[i]);
                end[i] = Math.toIntExact(pads[i + sp]);
            }
            int room = in[i] + begin[i] + end[i] - span;
            out[i] = (ceilMode ? -Math.floorDiv(-room, s[i]) : Math.floorDiv(room, s[i])) + 1;
            // As in ONNX Runtime and PyTorch: a ceil-mode window must start inside the input or its leading pad.
            if (ceilMode && (out[i] - 1) * s[i] >= in[i] + begin[i]) {
                out[i]--;
            }
            out[i] = Math.max(out[i], 0);
        }
        int outPlane = 1;
        int inPlane = 1;
        int window = 1;
        for (int i = 0; i < sp; i++) {
            outPlane *= out[i];
            inPlane *= in[i];
            window *= k[i];
        }
        // Per output position: in-plane offsets of the window's valid taps, and the average's divisor.
        int[] taps = new int[outPlane * window];
        int[] count = new int[outPlane];
        float[] divisor = new float[outPlane];
        int[] o = new int[sp];
        int[] w = new int[sp];
        for (int p = 0; p < outPlane; p++) {
            int padded = 1;
            for (int i = 0; i < sp; i++) {
                int lo = o[i] * s[i] - begin[i];
                int hi = Math.min(lo + (k[i] - 1) * d[i] + 1, in[i] + end[i]);
                // Positions (with dilation) inside the padded extent, for count_include_pad.
                padded *= Math.max(0, (hi - lo + d[i] - 1) / d[i]);
            }
            Arrays.fill(w, 0);
            int n = 0;
            for (int t = 0; t < window; t++) {
                int off = 0;
                boolean inside = true;
                for (int i = 0; i < sp; i++) {
                    int c = o[i] * s[i] - begin[i] + w[i] * d[i];
                    inside &= c >= 0 && c < in[i];
                    off = off * in[i] + c;
                }
                if (inside) {
                    taps[p * window + n++] = off;
                }
                for (int i = sp - 1; i >= 0 && ++w[i] == k[i]; i--) {
                    w[i] = 0;
                }
            }
            count[p] = n;
            divisor[p] = countIncludePad ? padded : n;
            for (int i = sp - 1; i >= 0 && ++o[i] == out[i]; i--) {
                o[i] = 0;
            }
        }
        int planes = x.dim(0) * x.dim(1);
        int[] outShape = new int[x.rank()];
        outShape[0] = x.dim(0);
        outShape[1] = x.dim(1);
        System.arraycopy(out, 0, outShape, 2, sp);
        long[] idx = indices ? new long[planes * outPlane] : null;
        Tensor y;
        if (x.isFloating()) {
            float[] xs = x.floats();
            float[] ys = new float[planes * outPlane];
            for (int pl = 0; pl < planes; pl++) {
                int xb = pl * inPlane;
                for (int p = 0; p < outPlane; p++) {
                    int tb = p * window;
                    float acc = max ? Float.NEGATIVE_INFINITY : 0f;
                    int arg = count[p] > 0 ? taps[tb] : 0;
                    for (int t = 0; t < count[p]; t++) {
                        float v = xs[xb + taps[tb + t]];
                        if (!max) {
                            acc += v;
                        } else if (v > acc) {
                            acc = v;
                            arg = taps[tb + t];
                        }
                    }
                    ys[pl * outPlane + p] = max ? acc : acc / divisor[p];
                    if (idx != null) {
                        idx[pl * outPlane + p] = (long) xb + order(arg, in);
                    }
                }
            }
            y = Outputs.floats(x.dtype(), outShape, ys);
        } else {
            long[] xs = x.longs();
            long[] ys = new long[planes * outPlane];
            for (int pl = 0; pl < planes; pl++) {
                int xb = pl * inPlane;
                for (int p = 0; p < outPlane; p++) {
                    int tb = p * window;
                    long acc = Long.MIN_VALUE;
                    int arg = 0;
                    for (int t = 0; t < count[p]; t++) {
                        long v = xs[xb + taps[tb + t]];
                        if (v > acc) {
                            acc = v;
                            arg = taps[tb + t];
                        }
                    }
                    ys[pl * outPlane + p] = acc;
                    if (idx != null) {
                        idx[pl * outPlane + p] = (long) xb + order(arg, in);
                    }
                }
            }
            y = Tensor.ofLongs(x.dtype(), outShape, ys);
        }
        if (idx == null) {
            return new Tensor[] {y};
        }
        return new Tensor[] {y, Tensor.ofLongs(DType.INT64, outShape, idx)};
    }

    /** The in-plane index as ONNX reports it: row-major, or column-major with storage_order=1. */
    private long order(int rowMajor, int[] in) {
        if (!columnMajor) {
            return rowMajor;
        }
        long r = 0;
        int rest = rowMajor;
        long mul = 1;
        int[] c = new int[in.length];
        for (int i = in.length - 1; i >= 0; i--) {
            c[i] = rest % in[i];
            rest /= in[i];
        }
        for (int i = 0; i < in.length; i++) {
            r += c[i] * mul;
            mul *= in[i];
        }
        return r;
    }
}
