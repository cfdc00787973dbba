package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * ONNX Conv in float32 for 1-D and 2-D convolutions: X [N, C, (H,) W], W [M, C/group, (kH,) kW],
 * optional bias [M]; groups (including depthwise), strides, dilations, explicit pads and auto_pad
 * SAME_UPPER / SAME_LOWER / VALID.
 *
 * <p>Each output element is the bias plus the products accumulated in float32 in the fixed order
 * (input channel, kernel row, kernel column), each element by one task, so results are
 * bit-identical run to run and whatever the thread count. Paths: with at least
 * {@value #GEMM_MIN_CHANNELS} output channels per group, a blocked matrix product ({@link Sgemm})
 * of the weights with the input (1x1) or its im2col matrix (read in place from zero-padded planes
 * at stride 1, {@link PaddedConv}; built a band at a time otherwise), starting from the bias and
 * clamped as it is written; depthwise (one channel per group) at strides 1 and 2: small 3x3 planes
 * several at a time ({@link Depthwise3x3}), large planes and any other kernel size and dilation
 * over zero-padded phase planes ({@link PaddedDepthwise}) where the register-blocked tiles are
 * present (else 3x3 in bands of rows, {@link Depthwise3x3}); anything else, a direct loop per
 * output plane. All but the direct loop read
 * padding as zeros (adding {@code w * 0}) where the direct loop skips it, which can only change the
 * sign of an exact zero. Thread-safe; the only state is a cache of the transposed 1x1
 * weights for small planes, rebuilt whenever W is another array.
 */
public final class ConvKernel implements FloatKernel {
    /** Below this many multiply-adds the fork/join overhead outweighs the parallel speed-up. */
    private static final long PARALLEL_MACS = 1L << 18;
    /** Output channels per group from which the blocked matrix product pays off. */
    private static final int GEMM_MIN_CHANNELS = 4;
    /** Largest im2col band, in floats (16 MiB). */
    private static final int IM2COL_FLOATS = 1 << 22;
    /** Below this many floats an im2col band is built by one thread: its copies cost less than a fork. */
    private static final int IM2COL_PARALLEL_FLOATS = 1 << 15;
    /** Up to this many floats (4 MiB) the im2col matrix lives in a per-thread buffer kept between runs. */
    private static final int IM2COL_REUSE_FLOATS = 1 << 20;

    private static final FloatTiles TILES = FloatTiles.best();

    private static final ThreadLocal<Im2colBuffer> IM2COL_SCRATCH = ThreadLocal.withInitial(Im2colBuffer::new);
    /** Depthwise channels per task: one task's scratch rows are reused across them. */
    private static final int DEPTHWISE_CHUNK = 8;

    private final String autoPad;
    private final int group;
    private final long[] kernelShape;
    private final long[] strides;
    private final long[] dilations;
    private final long[] pads;
    /** A fused activation's bounds, applied to each output plane while it is still in cache. */
    private final float clampLo;

    private final float clampHi;
    private final boolean clamped;
    /** The transposed 1x1 weights of the last run on a small plane; see {@link #transposedWeights}. */
    private volatile TransposedWeights transposed;

    ConvKernel(Node node) {
        this(node, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY);
    }

    /** A Conv followed by {@code min(max(y, lo), hi)} (a fused Relu or Clip). */
    ConvKernel(Node node, float lo, float hi) {
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
        clampLo = lo;
        clampHi = hi;
        clamped = lo != Float.NEGATIVE_INFINITY || hi != Float.POSITIVE_INFINITY;
    }

    static FloatKernel create(Node node, int opset) {
        return new ConvKernel(node);
    }

    private void clamp(float[] out, int from, int to) {
        if (!clamped) {
            return;
        }
        float lo = clampLo;
        float hi = clampHi;
        for (int i = from; i < to; i++) {
            out[i] = Math.min(Math.max(out[i], lo), hi);
        }
    }

    /** Output size and leading pad of one spatial dimension. */
    record Dim(int in, int k, int stride, int dilation, int padBegin, int out) {}

    private Dim dim(int i, int spatial, int in, int k) {
        int s = strides == null ? 1 : Math.toIntExact(strides[i]);
        int d = dilations == null ? 1 : Math.toIntExact(dilations[i]);
        if (s < 1 || d < 1) {
            throw new IllegalArgumentException("strides=" + Arrays.toString(strides) + " dilations="
                    + Arrays.toString(dilations) + " must be positive");
        }
        int span = (k - 1) * d + 1;
        int begin;
        int end;
        switch (autoPad) {
            case "VALID" -> {
                begin = 0;
                end = 0;
            }
            case "SAME_UPPER", "SAME_LOWER" -> {
                int out = (in + s - 1) / s;
                int total = Math.max(0, (out - 1) * s + span - in);
                // ONNX: the odd extra pad goes at the end for SAME_UPPER, at the start for SAME_LOWER.
                begin = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
                end = total - begin;
            }
            default -> {
                begin = pads == null ? 0 : Math.toIntExact(pads[i]);
                end = pads == null ? 0 : Math.toIntExact(pads[i + spatial]);
            }
        }
        int out = Math.floorDiv(in + begin + end - span, s) + 1;
        if (out < 0) {
            out = 0;
        }
        return new Dim(in, k, s, d, begin, out);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        Tensor w = KernelArgs.required(inputs, 1, "W");
        Tensor b = KernelArgs.optional(inputs, 2);
        KernelArgs.requireFloating(x, "X");
        KernelArgs.requireFloating(w, "W");
        int spatial = x.rank() - 2;
        if (spatial < 1 || spatial > 2) {
            throw new IllegalArgumentException(
                    "Conv with " + spatial + " spatial dimensions is not supported (valid: 1, 2)");
        }
        if (w.rank() != x.rank()) {
            throw new IllegalArgumentException("W has rank " + w.rank() + ", X has rank " + x.rank());
        }
        if (kernelShape != null) {
            for (int i = 0; i < spatial; i++) {
                if (kernelShape[i] != w.dim(2 + i)) {
                    throw new IllegalArgumentException("kernel_shape=" + Arrays.toString(kernelShape)
                            + " does not match W " + Arrays.toString(w.shape()));
                }
            }
        }
        int n = x.dim(0);
        int c = x.dim(1);
        int m = w.dim(0);
        int cg = w.dim(1);
        if (cg * group != c || m % group != 0) {
            throw new IllegalArgumentException(
                    "group=" + group + " does not fit X channels " + c + ", W " + Arrays.toString(w.shape()));
        }
        Dim dh = spatial == 2 ? dim(0, 2, x.dim(2), w.dim(2)) : new Dim(1, 1, 1, 1, 0, 1);
        Dim dw = dim(spatial - 1, spatial, x.dim(-1), w.dim(-1));
        int[] outShape = spatial == 2 ? new int[] {n, m, dh.out, dw.out} : new int[] {n, m, dw.out};
        int plane = dh.out * dw.out;
        float[] out = new float[n * m * plane];
        float[] bias = b == null ? null : b.floats();
        if (bias != null && bias.length != m) {
            throw new IllegalArgumentException("B has " + bias.length + " values, W has " + m + " output channels");
        }
        boolean pointwise = dh.k == 1
                && dw.k == 1
                && dh.stride == 1
                && dw.stride == 1
                && dh.padBegin == 0
                && dw.padBegin == 0
                && dh.out == dh.in
                && dw.out == dw.in;
        float[] xs = x.floats();
        float[] ws = w.floats();
        int mg = m / group;
        long macs = (long) n * m * cg * dh.k * dw.k * plane;
        boolean parallel = macs >= PARALLEL_MACS;
        if (mg >= GEMM_MIN_CHANNELS) {
            // Enough output channels per group to amortise packing: a blocked matrix product per
            // (image, group), W [mg x cg*kH*kW] times the input (1x1) or its im2col matrix, starting
            // from the bias and clamped as each output row is written.
            int kdim = cg * dh.k * dw.k;
            for (int g = 0; g < group; g++) {
                int wBase = g * mg * kdim;
                float[][] wt =
                        pointwise && Sgemm.transposed(mg, plane) ? transposedWeights(ws, g, mg, cg, parallel) : null;
                for (int img = 0; img < n; img++) {
                    int xBase = (img * c + g * cg) * dh.in * dw.in;
                    int oBase = (img * m + g * mg) * plane;
                    if (pointwise) {
                        Sgemm.biasProduct(
                                ws, wBase, cg, xs, xBase, plane, out, oBase, plane, mg, cg, plane, bias, g * mg,
                                clamped, clampLo, clampHi, wt, parallel);
                    } else if (PaddedConv.supports(dh, dw)) {
                        int bo = g * mg;
                        withScratch(
                                PaddedConv.paddedFloats(cg, dh, dw),
                                padded -> PaddedConv.product(
                                        xs, xBase, cg, ws, wBase, mg, out, oBase, dh, dw, bias, bo, clamped, clampLo,
                                        clampHi, parallel, padded));
                    } else {
                        im2colProduct(xs, xBase, cg, ws, wBase, mg, out, oBase, dh, dw, bias, g * mg, parallel);
                    }
                }
            }
        } else if (cg == 1
                && mg == 1
                && PaddedDepthwise.supports(dh, dw)
                && !(spatial == 2
                        && dh.stride == dw.stride
                        && Depthwise3x3.supports(dh.k, dw.k, dh.stride, dh.dilation)
                        && dw.dilation == 1
                        && Depthwise3x3.flatSupports(dh.in, dw.in, dh.out, dw.out, dh.stride, dh.padBegin, dw.padBegin)
                        && Depthwise3x3.flatChannels(dh.in, dw.in) > 1)) {
            // Small 3x3 planes stay on the tap copies below, which take several planes per pass
            // (per-plane work dominates there); large planes and other kernels come here.
            PaddedDepthwise.run(xs, ws, bias, m, n * m, out, dh, dw, clamped, clampLo, clampHi, parallel);
        } else if (cg == 1
                && mg == 1
                && spatial == 2
                && dh.stride == dw.stride
                && Depthwise3x3.supports(dh.k, dw.k, dh.stride, dh.dilation)
                && dw.dilation == 1
                && Depthwise3x3.flatSupports(dh.in, dw.in, dh.out, dw.out, dh.stride, dh.padBegin, dw.padBegin)) {
            // Small planes a batch at a time (planes t are consecutive in X and out: c == m), large
            // ones in bands of rows.
            int per = Depthwise3x3.flatChannels(dh.in, dw.in);
            int band = per > 1 ? dh.out : Math.min(dh.out, Depthwise3x3.flatBandRows(dw.in, dh.stride));
            int bands = (dh.out + band - 1) / band;
            int total = n * m;
            int units = (total + per - 1) / per * bands;
            IntStream tasks = IntStream.range(0, units);
            if (parallel) {
                tasks = tasks.parallel();
            }
            tasks.forEach(u -> {
                int t0 = (u / bands) * per;
                int r0 = (u % bands) * band;
                Depthwise3x3.flat(
                        xs,
                        ws,
                        bias,
                        m,
                        out,
                        t0,
                        Math.min(total, t0 + per),
                        r0,
                        Math.min(dh.out, r0 + band),
                        dh.in,
                        dw.in,
                        dh.out,
                        dw.out,
                        dh.stride,
                        dh.padBegin,
                        dw.padBegin,
                        clamped,
                        clampLo,
                        clampHi);
            });
        } else if (cg == 1
                && mg == 1
                && spatial == 2
                && dh.stride == dw.stride
                && Depthwise3x3.supports(dh.k, dw.k, dh.stride, dh.dilation)
                && dw.dilation == 1) {
            int chunks = (n * m + DEPTHWISE_CHUNK - 1) / DEPTHWISE_CHUNK;
            IntStream tasks = IntStream.range(0, chunks);
            if (parallel) {
                tasks = tasks.parallel();
            }
            tasks.forEach(chunk -> {
                Depthwise3x3 dwc = new Depthwise3x3(dh.in, dw.in, dh.out, dw.out, dh.stride, dh.padBegin, dw.padBegin);
                for (int t = chunk * DEPTHWISE_CHUNK; t < Math.min(n * m, (chunk + 1) * DEPTHWISE_CHUNK); t++) {
                    dwc.plane(xs, t * dh.in * dw.in, ws, (t % m) * 9, bias == null ? 0f : bias[t % m], out, t * plane);
                    clamp(out, t * plane, (t + 1) * plane);
                }
            });
        } else {
            IntStream tasks = IntStream.range(0, n * m);
            if (parallel) {
                tasks = tasks.parallel();
            }
            tasks.forEach(t -> {
                int oc = t % m;
                int xBase = ((t / m) * c + (oc / mg) * cg) * dh.in * dw.in;
                float bv = bias == null ? 0f : bias[oc];
                if (pointwise) {
                    DirectConv.pointwisePlane(xs, xBase, ws, oc * cg, cg, out, t * plane, plane, bv);
                } else {
                    DirectConv.plane(xs, xBase, ws, oc * cg * dh.k * dw.k, cg, out, t * plane, bv, dh, dw);
                }
                clamp(out, t * plane, (t + 1) * plane);
            });
        }
        return new Tensor[] {Outputs.floats(x.dtype(), outShape, out)};
    }

    /**
     * Group {@code g}'s 1x1 weights [mg x cg] transposed, for products that run transposed (small
     * planes). Reused while W is the same array: tensors are immutable once handed to a kernel, and
     * weights are the same initializer tensors run after run.
     */
    private float[][] transposedWeights(float[] ws, int g, int mg, int cg, boolean parallel) {
        TransposedWeights t = transposed;
        if (t == null || t.source != ws || t.mg != mg || t.cg != cg || t.groups.length != group) {
            t = new TransposedWeights(ws, mg, cg, new float[group][][]);
        }
        float[][] wt = t.groups[g];
        if (wt == null) {
            wt = Sgemm.transpose(ws, g * mg * cg, cg, mg, cg, parallel);
            float[][][] groups = t.groups.clone();
            groups[g] = wt;
            transposed = new TransposedWeights(ws, mg, cg, groups);
        }
        return wt;
    }

    /** A thread's im2col buffer, and whether a call is using it. */
    private static final class Im2colBuffer {
        private float[] data = new float[0];
        private boolean busy;
    }

    /** The weights of a 1x1 conv transposed, per group (null until made), and the array they came from. */
    private record TransposedWeights(float[] source, int mg, int cg, float[][][] groups) {}

    /**
     * out[mg x plane] = clamp(bias + W[mg x cg*kH*kW] * im2col(x)), with the im2col matrix built a
     * band of output rows at a time so it stays below {@link #IM2COL_FLOATS}. Padding taps are zeros
     * in the matrix.
     */
    private void im2colProduct(
            float[] x,
            int xBase,
            int cg,
            float[] w,
            int wBase,
            int mg,
            float[] out,
            int oBase,
            Dim dh,
            Dim dw,
            float[] bias,
            int biasOff,
            boolean parallel) {
        int kdim = cg * dh.k * dw.k;
        int ow = dw.out;
        int bandRows = Math.max(1, Math.min(dh.out, IM2COL_FLOATS / Math.max(1, kdim * ow)));
        // Every element is written by im2colRow, so a reused buffer needs no clearing.
        withScratch(
                kdim * bandRows * ow,
                cols -> im2colBands(
                        x, xBase, kdim, w, wBase, mg, out, oBase, dh, dw, bias, biasOff, parallel, cols, bandRows));
    }

    /**
     * Runs {@code body} on a buffer of at least {@code need} floats, with stale contents: the
     * thread's kept buffer up to {@link #IM2COL_REUSE_FLOATS}, else a new one. The kept buffer is
     * marked busy while a call uses it: a thread that helps other pool tasks while it waits could
     * otherwise start another conv (say, of an outer parallel stream) on the same buffer.
     */
    private static void withScratch(int need, java.util.function.Consumer<float[]> body) {
        Im2colBuffer held = need <= IM2COL_REUSE_FLOATS ? IM2COL_SCRATCH.get() : null;
        if (held != null && held.busy) {
            held = null;
        }
        float[] cols;
        if (held != null) {
            if (held.data.length < need) {
                held.data = new float[need];
            }
            cols = held.data;
            held.busy = true;
        } else {
            cols = new float[need];
        }
        try {
            body.accept(cols);
        } finally {
            if (held != null) {
                held.busy = false;
            }
        }
    }

    private void im2colBands(
            float[] x,
            int xBase,
            int kdim,
            float[] w,
            int wBase,
            int mg,
            float[] out,
            int oBase,
            Dim dh,
            Dim dw,
            float[] bias,
            int biasOff,
            boolean parallel,
            float[] cols,
            int bandRows) {
        int ow = dw.out;
        int plane = dh.out * ow;
        for (int r0 = 0; r0 < dh.out; r0 += bandRows) {
            int rows = Math.min(dh.out, r0 + bandRows) - r0;
            int width = rows * ow;
            int band = r0;
            IntStream krows = IntStream.range(0, kdim);
            if (parallel && (long) kdim * width >= IM2COL_PARALLEL_FLOATS) {
                krows = krows.parallel();
            }
            krows.forEach(kr -> im2colRow(x, xBase, kr, dh, dw, band, rows, cols, kr * width));
            Sgemm.biasProduct(
                    w,
                    wBase,
                    kdim,
                    cols,
                    0,
                    width,
                    out,
                    oBase + r0 * ow,
                    plane,
                    mg,
                    kdim,
                    width,
                    bias,
                    biasOff,
                    clamped,
                    clampLo,
                    clampHi,
                    null,
                    parallel);
        }
    }

    /** Row {@code kr} = (ci, kh, kw) of the im2col matrix for output rows [r0, r0+rows). */
    private static void im2colRow(
            float[] x, int xBase, int kr, Dim dh, Dim dw, int r0, int rows, float[] cols, int dst) {
        int kw = kr % dw.k;
        int kh = (kr / dw.k) % dh.k;
        int ci = kr / (dw.k * dh.k);
        int ow = dw.out;
        int off = kw * dw.dilation - dw.padBegin;
        int lo = Math.min(ow, Math.max(0, -Math.floorDiv(off, dw.stride)));
        int hi = Math.max(lo, Math.min(ow, -Math.floorDiv(-(dw.in - off), dw.stride)));
        int sw = dw.stride;
        Arrays.fill(cols, dst, dst + rows * ow, 0f);
        for (int r = 0; r < rows; r++) {
            int ih = (r0 + r) * dh.stride - dh.padBegin + kh * dh.dilation;
            if (ih < 0 || ih >= dh.in) {
                continue;
            }
            int xo = xBase + (ci * dh.in + ih) * dw.in + off;
            int d = dst + r * ow;
            if (sw == 1) {
                if (hi > lo) {
                    System.arraycopy(x, xo + lo, cols, d + lo, hi - lo);
                }
            } else if (sw == 2) {
                TILES.evens(x, xo + 2 * lo, cols, d + lo, hi - lo);
            } else {
                for (int o = lo; o < hi; o++) {
                    cols[d + o] = x[xo + o * sw];
                }
            }
        }
    }
}
