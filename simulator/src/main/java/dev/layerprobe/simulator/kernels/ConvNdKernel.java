package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * ONNX Conv for three and more spatial dimensions (video and volumetric networks), and the
 * registered Conv factory: 1-D and 2-D convolutions go to the optimised {@link ConvKernel}, others
 * to this general kernel. Same attributes and conventions as ConvKernel: X [N, C, D1..Dn],
 * W [M, C/group, k1..kn], optional bias [M]; group, strides, dilations, pads, auto_pad. Each
 * output element is the bias plus the products accumulated in float32 in the order (input
 * channel, kernel position). Stateless and thread-safe.
 */
public final class ConvNdKernel implements FloatKernel {
    private static final long PARALLEL_MACS = 1L << 18;

    private final String autoPad;
    private final int group;
    private final long[] strides;
    private final long[] dilations;
    private final long[] pads;

    private ConvNdKernel(Node node) {
        autoPad = KernelArgs.oneOf(node, "auto_pad", "NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID");
        long g = node.attrInt("group", 1);
        if (g < 1) {
            throw new IllegalArgumentException("group=" + g + " must be at least 1");
        }
        group = (int) g;
        strides = node.attrInts("strides", null);
        dilations = node.attrInts("dilations", null);
        pads = node.attrInts("pads", null);
    }

    /** The Conv kernel of a node: ConvKernel up to two spatial dimensions, this one beyond. */
    static FloatKernel create(Node node, int opset) {
        FloatKernel small = ConvKernel.create(node, opset);
        FloatKernel general = new ConvNdKernel(node);
        return inputs -> {
            Tensor x = KernelArgs.required(inputs, 0, "X");
            return x.rank() > 4 ? general.run(inputs) : small.run(inputs);
        };
    }

    /**
     * A 1-D or 2-D Conv with a fused Relu/Clip applied as each output plane is finished, or null for
     * higher ranks (the caller then clamps after the kernel).
     */
    static FloatKernel createClamped(Node node, float lo, float hi) {
        FloatKernel small = new ConvKernel(node, lo, hi);
        return inputs -> {
            Tensor x = KernelArgs.required(inputs, 0, "X");
            if (x.rank() > 4) {
                throw new IllegalArgumentException("a fused activation on a " + (x.rank() - 2) + "-D Conv");
            }
            return small.run(inputs);
        };
    }

    private static int at(long[] v, int i, int dflt) {
        return v == null ? dflt : Math.toIntExact(v[i]);
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
            throw new IllegalArgumentException("W has rank " + w.rank() + ", X has rank " + x.rank());
        }
        int n = x.dim(0);
        int c = x.dim(1);
        int m = w.dim(0);
        int cg = w.dim(1);
        if (cg * group != c || m % group != 0) {
            throw new IllegalArgumentException(
                    "group=" + group + " does not fit X channels " + c + ", W " + Arrays.toString(w.shape()));
        }
        int[] in = new int[sp];
        int[] k = new int[sp];
        int[] s = new int[sp];
        int[] d = new int[sp];
        int[] begin = new int[sp];
        int[] out = new int[sp];
        for (int i = 0; i < sp; i++) {
            in[i] = x.dim(2 + i);
            k[i] = w.dim(2 + i);
            s[i] = at(strides, i, 1);
            d[i] = at(dilations, i, 1);
            if (s[i] < 1 || d[i] < 1) {
                throw new IllegalArgumentException("strides=" + Arrays.toString(strides) + " dilations="
                        + Arrays.toString(dilations) + " must be positive");
            }
            int span = (k[i] - 1) * d[i] + 1;
            int end;
            switch (autoPad) {
                case "VALID" -> end = 0;
                case "SAME_UPPER", "SAME_LOWER" -> {
                    int total = Math.max(0, ((in[i] + s[i] - 1) / s[i] - 1) * s[i] + span - in[i]);
                    begin[i] = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
                    end = total - begin[i];
                }
                default -> {
                    begin[i] = at(pads, i, 0);
                    end = at(pads, i + sp, 0);
                }
            }
            out[i] = Math.max(0, Math.floorDiv(in[i] + begin[i] + end - span, s[i]) + 1);
        }
        float[] bias = b == null ? null : b.floats();
        if (bias != null && bias.length != m) {
            throw new IllegalArgumentException("B has " + bias.length + " values, W has " + m + " output channels");
        }
        int inPlane = Math.toIntExact(Shapes.size(in));
        int kPlane = Math.toIntExact(Shapes.size(k));
        int outPlane = Math.toIntExact(Shapes.size(out));
        int[] source = sources(in, k, s, d, begin, out, outPlane, kPlane);
        float[] xs = x.floats();
        float[] ws = w.floats();
        float[] y = new float[n * m * outPlane];
        int mg = m / group;
        IntStream tasks = IntStream.range(0, n * m);
        if ((long) n * m * cg * outPlane * kPlane >= PARALLEL_MACS) {
            tasks = tasks.parallel();
        }
        tasks.forEach(t -> {
            int oc = t % m;
            int yBase = t * outPlane;
            float bv = bias == null ? 0f : bias[oc];
            Arrays.fill(y, yBase, yBase + outPlane, bv);
            for (int ci = 0; ci < cg; ci++) {
                int xBase = ((t / m) * c + (oc / mg) * cg + ci) * inPlane;
                int wBase = (oc * cg + ci) * kPlane;
                for (int p = 0; p < outPlane; p++) {
                    int row = p * kPlane;
                    float acc = y[yBase + p];
                    for (int q = 0; q < kPlane; q++) {
                        int from = source[row + q];
                        if (from >= 0) {
                            acc += xs[xBase + from] * ws[wBase + q];
                        }
                    }
                    y[yBase + p] = acc;
                }
            }
        });
        int[] shape = new int[sp + 2];
        shape[0] = n;
        shape[1] = m;
        System.arraycopy(out, 0, shape, 2, sp);
        return new Tensor[] {Outputs.floats(x.dtype(), shape, y)};
    }

    /** For output position p and kernel position q, the flat input position read, or -1 in padding. */
    private static int[] sources(
            int[] in, int[] k, int[] s, int[] d, int[] begin, int[] out, int outPlane, int kPlane) {
        int sp = in.length;
        int[] source = new int[Math.multiplyExact(outPlane, kPlane)];
        int[] inStrides = Shapes.strides(in);
        int[] op = new int[sp];
        for (int p = 0; p < outPlane; p++) {
            int[] kp = new int[sp];
            for (int q = 0; q < kPlane; q++) {
                int off = 0;
                for (int a = 0; a < sp && off >= 0; a++) {
                    int i = op[a] * s[a] - begin[a] + kp[a] * d[a];
                    off = i < 0 || i >= in[a] ? -1 : off + i * inStrides[a];
                }
                source[p * kPlane + q] = off;
                for (int a = sp - 1; a >= 0 && ++kp[a] == k[a]; a--) {
                    kp[a] = 0;
                }
            }
            for (int a = sp - 1; a >= 0 && ++op[a] == out[a]; a--) {
                op[a] = 0;
            }
        }
        return source;
    }
}
