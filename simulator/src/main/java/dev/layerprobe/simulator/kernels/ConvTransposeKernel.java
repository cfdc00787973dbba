package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * ONNX ConvTranspose in float32 over any number of spatial dimensions: X [N, C, D1..Dn],
 * W [C, M/group, k1..kn], optional bias [M]; group, strides, dilations, pads, output_padding,
 * output_shape and auto_pad (NOTSET, SAME_UPPER, SAME_LOWER, VALID).
 *
 * <p>Padding follows the ONNX definition: with explicit pads the output length is
 * {@code s*(in-1) + output_padding + (k-1)*d + 1 - pad_begin - pad_end}; with output_shape (or
 * SAME_*, whose output length is {@code in*s}) the total padding is derived from the requested
 * length and split with the odd element at the end for SAME_UPPER and at the start otherwise. A
 * negative pad (output_shape larger than the full result) leaves zeros (plus bias) at that edge.
 *
 * <p>Every output channel is accumulated in float32 in the fixed order (input channel, input
 * position, kernel position) and the bias added last, so results do not depend on how output
 * channels are spread over threads. Stateless and thread-safe.
 */
public final class ConvTransposeKernel implements FloatKernel {
    private static final long PARALLEL_MACS = 1L << 18;

    private final String name;
    private final String autoPad;
    private final int group;
    private final long[] kernelShape;
    private final long[] strides;
    private final long[] dilations;
    private final long[] pads;
    private final long[] outputPadding;
    private final long[] outputShape;

    private ConvTransposeKernel(Node node) {
        name = node.name();
        autoPad = KernelArgs.oneOf(node, "auto_pad", "NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID");
        long g = node.attrInt("group", 1);
        if (g < 1) {
            throw new IllegalArgumentException("group=" + g + " must be at least 1");
        }
        group = (int) g;
        kernelShape = node.attrInts("kernel_shape", null);
        strides = node.attrInts("strides", null);
        dilations = node.attrInts("dilations", null);
        pads = node.attrInts("pads", null);
        outputPadding = node.attrInts("output_padding", null);
        outputShape = node.attrInts("output_shape", null);
    }

    static FloatKernel create(Node node, int opset) {
        return new ConvTransposeKernel(node);
    }

    private static int at(long[] v, int i, int dflt, String attr, int spatial) {
        if (v == null) {
            return dflt;
        }
        if (i >= v.length) {
            throw new IllegalArgumentException(
                    attr + "=" + Arrays.toString(v) + " has fewer than " + spatial + " values");
        }
        return Math.toIntExact(v[i]);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        Tensor w = KernelArgs.required(inputs, 1, "W");
        Tensor b = KernelArgs.optional(inputs, 2);
        KernelArgs.requireFloating(x, "X");
        KernelArgs.requireFloating(w, "W");
        int sp = x.rank() - 2;
        if (sp < 1 || w.rank() != x.rank()) {
            throw new IllegalArgumentException("X " + Arrays.toString(x.shape()) + " and W "
                    + Arrays.toString(w.shape()) + " must have the same rank, at least 3");
        }
        int n = x.dim(0);
        int c = x.dim(1);
        int mg = w.dim(1);
        int m = mg * group;
        if (w.dim(0) != c || c % group != 0) {
            throw new IllegalArgumentException(
                    "W " + Arrays.toString(w.shape()) + " does not fit X channels " + c + " with group=" + group);
        }
        int cg = c / group;
        int[] in = new int[sp];
        int[] k = new int[sp];
        int[] s = new int[sp];
        int[] d = new int[sp];
        int[] begin = new int[sp];
        int[] out = new int[sp];
        for (int i = 0; i < sp; i++) {
            in[i] = x.dim(2 + i);
            k[i] = w.dim(2 + i);
            if (kernelShape != null && at(kernelShape, i, 0, "kernel_shape", sp) != k[i]) {
                throw new IllegalArgumentException("kernel_shape=" + Arrays.toString(kernelShape) + " does not match W "
                        + Arrays.toString(w.shape()));
            }
            s[i] = at(strides, i, 1, "strides", sp);
            d[i] = at(dilations, i, 1, "dilations", sp);
            if (s[i] < 1 || d[i] < 1) {
                throw new IllegalArgumentException("strides=" + Arrays.toString(strides) + " dilations="
                        + Arrays.toString(dilations) + " must be positive");
            }
            int op = at(outputPadding, i, 0, "output_padding", sp);
            int full = s[i] * (in[i] - 1) + op + (k[i] - 1) * d[i] + 1;
            if (outputShape != null || autoPad.startsWith("SAME")) {
                // output_shape may list all dims or only the spatial ones.
                int want = outputShape == null
                        ? in[i] * s[i]
                        : Math.toIntExact(outputShape[outputShape.length == sp + 2 ? i + 2 : i]);
                int total = full - want;
                // Floor division, as the ONNX reference splits a negative total.
                begin[i] = autoPad.equals("SAME_UPPER") ? Math.floorDiv(total, 2) : total - Math.floorDiv(total, 2);
                out[i] = want;
            } else if (autoPad.equals("VALID")) {
                out[i] = full;
            } else {
                begin[i] = at(pads, i, 0, "pads", sp);
                out[i] = full - begin[i] - at(pads, i + sp, 0, "pads", 2 * sp);
            }
            if (out[i] < 0) {
                throw new IllegalArgumentException(
                        "output length " + out[i] + " along spatial axis " + i + " is negative");
            }
        }
        float[] bias = b == null ? null : b.floats();
        if (bias != null && bias.length != m) {
            throw new IllegalArgumentException("B has " + bias.length + " values, W has " + m + " output channels");
        }
        int inPlane = Math.toIntExact(Shapes.size(in));
        int kPlane = Math.toIntExact(Shapes.size(k));
        int outPlane = Math.toIntExact(Shapes.size(out));
        int[] target = targets(in, k, s, d, begin, out, inPlane, kPlane);
        float[] xs = x.floats();
        float[] ws = w.floats();
        float[] y = new float[n * m * outPlane];
        IntStream tasks = IntStream.range(0, n * m);
        if ((long) n * m * cg * inPlane * kPlane >= PARALLEL_MACS) {
            tasks = tasks.parallel();
        }
        tasks.forEach(t -> {
            int oc = t % m;
            int g = oc / mg;
            int o = oc % mg;
            int yBase = t * outPlane;
            for (int ci = g * cg; ci < (g + 1) * cg; ci++) {
                int xBase = ((t / m) * c + ci) * inPlane;
                int wBase = (ci * mg + o) * kPlane;
                for (int p = 0; p < inPlane; p++) {
                    float xv = xs[xBase + p];
                    int row = p * kPlane;
                    for (int q = 0; q < kPlane; q++) {
                        int to = target[row + q];
                        if (to >= 0) {
                            y[yBase + to] += xv * ws[wBase + q];
                        }
                    }
                }
            }
            if (bias != null) {
                for (int j = yBase; j < yBase + outPlane; j++) {
                    y[j] += bias[oc];
                }
            }
        });
        int[] shape = new int[sp + 2];
        shape[0] = n;
        shape[1] = m;
        System.arraycopy(out, 0, shape, 2, sp);
        return new Tensor[] {Outputs.floats(x.dtype(), shape, y)};
    }

    /**
     * For input position p and kernel position q, the flat output position they add to
     * ({@code o = i*s + kk*d - pad_begin} per axis), or -1 when that falls outside the output.
     */
    private int[] targets(int[] in, int[] k, int[] s, int[] d, int[] begin, int[] out, int inPlane, int kPlane) {
        int sp = in.length;
        long cells = (long) inPlane * kPlane;
        if (cells > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    "ConvTranspose '" + name + "' is too large: " + cells + " input x kernel positions");
        }
        int[] target = new int[(int) cells];
        int[] outStrides = Shapes.strides(out);
        int[] ip = new int[sp];
        for (int p = 0; p < inPlane; p++) {
            int[] kp = new int[sp];
            for (int q = 0; q < kPlane; q++) {
                int off = 0;
                for (int a = 0; a < sp && off >= 0; a++) {
                    int o = ip[a] * s[a] + kp[a] * d[a] - begin[a];
                    off = o < 0 || o >= out[a] ? -1 : off + o * outStrides[a];
                }
                target[p * kPlane + q] = off;
                for (int a = sp - 1; a >= 0 && ++kp[a] == k[a]; a--) {
                    kp[a] = 0;
                }
            }
            for (int a = sp - 1; a >= 0 && ++ip[a] == in[a]; a--) {
                ip[a] = 0;
            }
        }
        return target;
    }
}
