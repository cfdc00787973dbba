package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX Pad, modes constant, reflect, edge and wrap. Before opset 11 pads and value are
 * attributes; from 11 they are inputs (pads, optional constant_value, and from 18 optional axes).
 * Pads are [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; negative pads crop. Any element type.
 * Stateless and thread-safe.
 */
public final class PadKernel implements FloatKernel {
    private final String mode;
    private final boolean attrs;
    private final long[] attrPads;
    private final float attrValue;

    private PadKernel(Node node, int opset) {
        mode = KernelArgs.oneOf(node, "mode", "constant", "constant", "reflect", "edge", "wrap");
        attrs = opset < 11;
        attrPads = node.attrInts(opset < 2 ? "paddings" : "pads", null);
        attrValue = node.attrFloat("value", 0f);
    }

    static FloatKernel create(Node node, int opset) {
        return new PadKernel(node, opset);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "data");
        int r = x.rank();
        long[] pads;
        double value = attrValue;
        if (attrs) {
            pads = attrPads;
        } else {
            long[] given = KernelArgs.longs(KernelArgs.required(inputs, 1, "pads"), "pads");
            Tensor cv = KernelArgs.optional(inputs, 2);
            if (cv != null && cv.size() > 0) {
                value = cv.getDouble(0);
            }
            Tensor axesT = KernelArgs.optional(inputs, 3);
            if (axesT == null) {
                pads = given;
            } else {
                long[] axes = KernelArgs.longs(axesT, "axes");
                pads = new long[2 * r];
                for (int i = 0; i < axes.length; i++) {
                    int a = KernelArgs.axis(axes[i], r, "axes");
                    pads[a] = given[i];
                    pads[a + r] = given[i + axes.length];
                }
            }
        }
        if (pads == null || pads.length != 2 * r) {
            throw new IllegalArgumentException(
                    "pads=" + Arrays.toString(pads) + " must have 2 * rank = " + 2 * r + " values");
        }
        int[] in = x.shape();
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            out[i] = Math.toIntExact(in[i] + pads[i] + pads[i + r]);
            if (out[i] < 0) {
                throw new IllegalArgumentException("pads=" + Arrays.toString(pads) + " crop more than dimension " + i);
            }
            if (!mode.equals("constant") && in[i] == 0 && out[i] > 0) {
                throw new IllegalArgumentException("mode='" + mode + "' cannot pad an empty dimension");
            }
        }
        int n = Math.toIntExact(Shapes.size(out));
        int[] inStrides = Shapes.strides(in);
        // -1 marks an element taken from the constant.
        int[] map = new int[n];
        int[] o = new int[r];
        for (int p = 0; p < n; p++) {
            int off = 0;
            for (int i = 0; i < r && off >= 0; i++) {
                int c = source(o[i] - (int) pads[i], in[i]);
                off = c < 0 ? -1 : off + c * inStrides[i];
            }
            map[p] = off;
            for (int i = r - 1; i >= 0 && ++o[i] == out[i]; i--) {
                o[i] = 0;
            }
        }
        if (x.isFloating()) {
            float[] s = x.floats();
            float[] y = new float[n];
            for (int p = 0; p < n; p++) {
                y[p] = map[p] < 0 ? (float) value : s[map[p]];
            }
            return new Tensor[] {Outputs.floats(x.dtype(), out, y)};
        }
        long[] s = x.longs();
        long[] y = new long[n];
        for (int p = 0; p < n; p++) {
            y[p] = map[p] < 0 ? (long) value : s[map[p]];
        }
        return new Tensor[] {Outputs.longs(x.dtype(), out, y)};
    }

    /** The input coordinate an output coordinate c (already shifted by the begin pad) reads, or -1. */
    private int source(int c, int len) {
        if (c >= 0 && c < len) {
            return c;
        }
        switch (mode) {
            case "edge":
                return c < 0 ? 0 : len - 1;
            case "wrap":
                return Math.floorMod(c, len);
            case "reflect":
                if (len == 1) {
                    return 0;
                }
                int period = 2 * (len - 1);
                int m = Math.floorMod(c, period);
                return m < len ? m : period - m;
            default:
                return -1;
        }
    }
}
