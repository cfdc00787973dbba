package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX Softmax, LogSoftmax and Hardmax. From opset 13 they act along {@code axis} (default -1);
 * before, the input is coerced to 2-D [d0 * ... * d(axis-1), d(axis) * ... * dn] (axis default 1)
 * and the op acts on each row. Exponentials and sums are evaluated in double after subtracting the
 * maximum (the sum in element order), then rounded to float32. Softmax along the last axis, the
 * attention case, takes each exponential once, from {@link DoubleExp} (within one ulp of
 * {@code Math.exp}, which the other cases use), and multiplies by the sum's reciprocal instead of
 * dividing by it (one rounding more, in double); arguments below {@link #MIN_EXP_ARG} are raised to
 * it, which changes nothing: e^-200 is absorbed by a sum of at least 1 (the maximum's e^0) and its
 * quotient rounds to float32 zero either way. Stateless and thread-safe.
 */
public final class SoftmaxKernel implements FloatKernel {
    private enum Kind {
        SOFTMAX,
        LOG_SOFTMAX,
        HARDMAX
    }

    /** Arguments of the exponential are raised to this before {@link DoubleExp} (see the class comment). */
    static final double MIN_EXP_ARG = -200.0;
    /** Nanoseconds per value of a contiguous row (measured), for {@link Chunks}. */
    private static final int ROW_NANOS = 4;

    private final Kind kind;
    private final long axis;
    private final boolean coerce2d;

    private SoftmaxKernel(Kind kind, Node node, int opset) {
        this.kind = kind;
        coerce2d = opset < 13;
        axis = node.attrInt("axis", coerce2d ? 1 : -1);
    }

    static FloatKernel softmax(Node node, int opset) {
        return new SoftmaxKernel(Kind.SOFTMAX, node, opset);
    }

    static FloatKernel logSoftmax(Node node, int opset) {
        return new SoftmaxKernel(Kind.LOG_SOFTMAX, node, opset);
    }

    static FloatKernel hardmax(Node node, int opset) {
        return new SoftmaxKernel(Kind.HARDMAX, node, opset);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "input");
        KernelArgs.requireFloating(x, "input");
        int r = x.rank();
        int a = coerce2d && axis == r ? r : KernelArgs.axis(axis, Math.max(r, 1), "axis");
        int outer = 1;
        for (int i = 0; i < a; i++) {
            outer *= x.dim(i);
        }
        int len;
        int inner;
        if (coerce2d) {
            len = 1;
            for (int i = a; i < r; i++) {
                len *= x.dim(i);
            }
            inner = 1;
        } else {
            len = r == 0 ? 1 : x.dim(a);
            inner = 1;
            for (int i = a + 1; i < r; i++) {
                inner *= x.dim(i);
            }
        }
        float[] s = x.floats();
        float[] y = new float[s.length];
        if (kind == Kind.SOFTMAX && inner == 1) {
            int rowLen = len;
            // Rows are independent: chunks of them on the pool, as ONNX Runtime splits its rows.
            Chunks.run(outer, (long) rowLen * ROW_NANOS, (from, to) -> {
                double[] e = new double[rowLen];
                double[] scratch = new double[rowLen];
                for (int o = from; o < to; o++) {
                    contiguousRow(s, y, o * rowLen, rowLen, e, scratch);
                }
            });
            return new Tensor[] {Outputs.floats(x.dtype(), x.shape(), y)};
        }
        for (int o = 0; o < outer; o++) {
            for (int in = 0; in < inner; in++) {
                row(s, y, o * len * inner + in, len, inner);
            }
        }
        return new Tensor[] {Outputs.floats(x.dtype(), x.shape(), y)};
    }

    /**
     * Softmax of s[base, base + len) into y, each exponential taken once into e; the same sums as
     * {@link #row}, in the same order, and quotients as products by the sum's reciprocal.
     */
    private static void contiguousRow(float[] s, float[] y, int base, int len, double[] e, double[] scratch) {
        // One scalar pass for what cannot vectorise (the float to double conversion, the branchy
        // maximum), then the subtraction and clamp, which do.
        float max = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < len; k++) {
            float v = s[base + k];
            e[k] = v;
            if (v > max) {
                max = v;
            }
        }
        double m = max;
        for (int k = 0; k < len; k++) {
            // NaN stays NaN through max, as in row(): a NaN input makes the row NaN.
            e[k] = Math.max(e[k] - m, MIN_EXP_ARG);
        }
        double sum = DoubleExp.expInPlace(e, scratch, len);
        // A multiplication by the reciprocal instead of a division per value (5x faster here): one
        // more rounding in double, which moves a float32 quotient only within 1e-16 of a boundary.
        double inv = 1.0 / sum;
        for (int k = 0; k < len; k++) {
            y[base + k] = (float) (e[k] * inv);
        }
    }

    private void row(float[] s, float[] y, int base, int len, int stride) {
        float max = Float.NEGATIVE_INFINITY;
        int arg = 0;
        for (int k = 0; k < len; k++) {
            float v = s[base + k * stride];
            if (v > max) {
                max = v;
                arg = k;
            }
        }
        if (kind == Kind.HARDMAX) {
            y[base + arg * stride] = 1f;
            return;
        }
        double sum = 0;
        for (int k = 0; k < len; k++) {
            sum += Math.exp((double) s[base + k * stride] - max);
        }
        if (kind == Kind.SOFTMAX) {
            for (int k = 0; k < len; k++) {
                y[base + k * stride] = (float) (Math.exp((double) s[base + k * stride] - max) / sum);
            }
        } else {
            double logSum = Math.log(sum);
            for (int k = 0; k < len; k++) {
                y[base + k * stride] = (float) ((double) s[base + k * stride] - max - logSum);
            }
        }
    }
}
