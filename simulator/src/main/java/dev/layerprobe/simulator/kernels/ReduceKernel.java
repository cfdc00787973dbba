package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX Reduce* operators (Mean, Max, Min, Sum, Prod, L1, L2, LogSum, LogSumExp, SumSquare) and
 * ArgMax / ArgMin. Axes come from the {@code axes} attribute, or from input 1 where the op's opset
 * moved them there (ReduceSum 13, the others 18); no axes means all, unless
 * {@code noop_with_empty_axes=1}. Float reductions accumulate in double and round once, because
 * these ops run on the CPU side of a device in float and should not add their own error.
 * Sum/Prod/Max/Min also reduce integer tensors. Stateless and thread-safe.
 */
public final class ReduceKernel implements FloatKernel {
    private enum Kind {
        MEAN,
        MAX,
        MIN,
        SUM,
        PROD,
        L1,
        L2,
        LOG_SUM,
        LOG_SUM_EXP,
        SUM_SQUARE,
        ARG_MAX,
        ARG_MIN
    }

    private final Kind kind;
    private final long[] attrAxes;
    private final boolean axesInput;
    private final boolean keepDims;
    private final boolean noopWithEmptyAxes;
    private final boolean selectLast;

    private ReduceKernel(Kind kind, Node node, boolean axesInput) {
        this.kind = kind;
        this.axesInput = axesInput;
        attrAxes = kind == Kind.ARG_MAX || kind == Kind.ARG_MIN
                ? new long[] {node.attrInt("axis", 0)}
                : node.attrInts("axes", null);
        keepDims = KernelArgs.oneOf(node, "keepdims", 1, 0, 1) == 1;
        noopWithEmptyAxes = KernelArgs.oneOf(node, "noop_with_empty_axes", 0, 0, 1) == 1;
        selectLast = KernelArgs.oneOf(node, "select_last_index", 0, 0, 1) == 1;
    }

    static KernelFactory factory(String op) {
        Kind kind = switch (op) {
            case "ReduceMean" -> Kind.MEAN;
            case "ReduceMax" -> Kind.MAX;
            case "ReduceMin" -> Kind.MIN;
            case "ReduceSum" -> Kind.SUM;
            case "ReduceProd" -> Kind.PROD;
            case "ReduceL1" -> Kind.L1;
            case "ReduceL2" -> Kind.L2;
            case "ReduceLogSum" -> Kind.LOG_SUM;
            case "ReduceLogSumExp" -> Kind.LOG_SUM_EXP;
            case "ReduceSumSquare" -> Kind.SUM_SQUARE;
            case "ArgMax" -> Kind.ARG_MAX;
            case "ArgMin" -> Kind.ARG_MIN;
            default -> throw new IllegalArgumentException("not a reduction: " + op);
        };
        int axesInputSince =
                kind == Kind.SUM ? 13 : kind == Kind.ARG_MAX || kind == Kind.ARG_MIN ? Integer.MAX_VALUE : 18;
        return (node, opset) -> new ReduceKernel(kind, node, opset >= axesInputSince);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "data");
        int r = x.rank();
        long[] axes = attrAxes;
        if (axesInput) {
            Tensor a = KernelArgs.optional(inputs, 1);
            axes = a == null ? null : KernelArgs.longs(a, "axes");
        }
        if (axes != null && axes.length == 0) {
            axes = null;
        }
        if (axes == null && noopWithEmptyAxes) {
            return new Tensor[] {x};
        }
        boolean[] reduced = new boolean[r];
        if (axes == null) {
            java.util.Arrays.fill(reduced, true);
        } else {
            for (long a : axes) {
                reduced[KernelArgs.axis(a, Math.max(r, 1), "axes")] = r > 0;
            }
        }
        int[] inShape = x.shape();
        int[] keptShape = new int[r];
        int outRank = 0;
        for (int i = 0; i < r; i++) {
            keptShape[i] = reduced[i] ? 1 : inShape[i];
            outRank += reduced[i] ? 0 : 1;
        }
        int[] outShape = keepDims ? keptShape : new int[outRank];
        if (!keepDims) {
            for (int i = 0, j = 0; i < r; i++) {
                if (!reduced[i]) {
                    outShape[j++] = inShape[i];
                }
            }
        }
        // For each input element (C order) the output element it reduces into.
        int[] outStrides = Shapes.strides(keptShape);
        for (int i = 0; i < r; i++) {
            if (reduced[i]) {
                outStrides[i] = 0;
            }
        }
        int[] target = IndexMaps.strided(inShape, outStrides, 0);
        int n = Math.toIntExact(Shapes.size(keptShape));
        if (kind == Kind.ARG_MAX || kind == Kind.ARG_MIN) {
            return new Tensor[] {arg(x, target, n, inShape, reduced, outShape)};
        }
        if (!x.isFloating()) {
            return new Tensor[] {reduceLongs(x, target, n, outShape)};
        }
        float[] xs = x.floats();
        double[] acc = new double[n];
        double init = switch (kind) {
            case MAX -> Double.NEGATIVE_INFINITY;
            case MIN -> Double.POSITIVE_INFINITY;
            case PROD -> 1;
            default -> 0;
        };
        java.util.Arrays.fill(acc, init);
        int[] cnt = new int[n];
        for (int i = 0; i < xs.length; i++) {
            double v = xs[i];
            int t = target[i];
            cnt[t]++;
            switch (kind) {
                case MAX -> acc[t] = Double.isNaN(v) || v > acc[t] ? v : acc[t];
                case MIN -> acc[t] = Double.isNaN(v) || v < acc[t] ? v : acc[t];
                case PROD -> acc[t] *= v;
                case L1 -> acc[t] += Math.abs(v);
                case L2, SUM_SQUARE -> acc[t] += v * v;
                case LOG_SUM_EXP -> acc[t] += Math.exp(v);
                default -> acc[t] += v;
            }
        }
        float[] ys = new float[n];
        for (int t = 0; t < n; t++) {
            double a = acc[t];
            ys[t] = (float)
                    switch (kind) {
                        case MEAN -> a / cnt[t];
                        case L2 -> Math.sqrt(a);
                        case LOG_SUM, LOG_SUM_EXP -> Math.log(a);
                        default -> a;
                    };
        }
        return new Tensor[] {Outputs.floats(x.dtype(), outShape, ys)};
    }

    private Tensor reduceLongs(Tensor x, int[] target, int n, int[] outShape) {
        long[] xs = x.longs();
        long[] acc = new long[n];
        java.util.Arrays.fill(
                acc,
                switch (kind) {
                    case MAX -> Long.MIN_VALUE;
                    case MIN -> Long.MAX_VALUE;
                    case PROD -> 1L;
                    case SUM, MEAN, L1, SUM_SQUARE -> 0L;
                    default ->
                        throw new IllegalArgumentException(
                                kind + " of type " + x.dtype() + " is not supported (valid: floating types)");
                });
        int[] cnt = new int[n];
        for (int i = 0; i < xs.length; i++) {
            long v = xs[i];
            int t = target[i];
            cnt[t]++;
            switch (kind) {
                case MAX -> acc[t] = Math.max(acc[t], v);
                case MIN -> acc[t] = Math.min(acc[t], v);
                case PROD -> acc[t] *= v;
                case L1 -> acc[t] += Math.abs(v);
                case SUM_SQUARE -> acc[t] += v * v;
                default -> acc[t] += v;
            }
        }
        if (kind == Kind.MEAN) {
            for (int t = 0; t < n; t++) {
                acc[t] = cnt[t] == 0 ? 0 : acc[t] / cnt[t];
            }
        }
        return Outputs.longs(x.dtype(), outShape, acc);
    }

    /** ArgMax/ArgMin along the single reduced axis: first (or, with select_last_index, last) extreme. */
    private Tensor arg(Tensor x, int[] target, int n, int[] inShape, boolean[] reduced, int[] outShape) {
        int axis = 0;
        for (int i = 0; i < reduced.length; i++) {
            if (reduced[i]) {
                axis = i;
            }
        }
        int inner = 1;
        for (int i = axis + 1; i < inShape.length; i++) {
            inner *= inShape[i];
        }
        int len = inShape.length == 0 ? 1 : inShape[axis];
        double[] best = new double[n];
        long[] arg = new long[n];
        boolean[] seen = new boolean[n];
        boolean isMax = kind == Kind.ARG_MAX;
        for (int i = 0; i < x.size(); i++) {
            double v = x.getDouble(i);
            int t = target[i];
            long pos = (i / inner) % len;
            boolean better = !seen[t] || (isMax ? v > best[t] : v < best[t]) || (selectLast && v == best[t]);
            if (better) {
                best[t] = v;
                arg[t] = pos;
                seen[t] = true;
            }
        }
        return Tensor.ofLongs(DType.INT64, outShape, arg);
    }
}
