package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Tensor plumbing shared by the control-flow kernels: conditions, slices along an axis, stacking.
 * The compiler's If layers read their condition with {@link #truth} too.
 */
public final class ControlFlow {
    private ControlFlow() {}

    /** The value of a one-element condition tensor (nonzero is true). */
    public static boolean truth(Tensor t, String what) {
        if (t.size() != 1) {
            throw new IllegalArgumentException(
                    what + " must hold one element, got shape " + Arrays.toString(t.shape()));
        }
        return t.isFloating() ? t.getDouble(0) != 0 : t.getLong(0) != 0;
    }

    static Tensor bool(boolean v) {
        return Tensor.ofLongs(DType.BOOL, new int[0], new long[] {v ? 1 : 0});
    }

    static Tensor int64(long v) {
        return Tensor.ofLongs(DType.INT64, new int[0], new long[] {v});
    }

    /** Element {@code index} of x along {@code axis}, that axis removed. */
    static Tensor take(Tensor x, int axis, int index) {
        int[] shape = x.shape();
        int inner = 1;
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        int outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= shape[i];
        }
        int[] out = new int[shape.length - 1];
        for (int i = 0, k = 0; i < shape.length; i++) {
            if (i != axis) {
                out[k++] = shape[i];
            }
        }
        int[] idx = new int[outer * inner];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < inner; j++) {
                idx[o * inner + j] = (o * shape[axis] + index) * inner + j;
            }
        }
        return Outputs.gather(x, out, idx);
    }

    /** The parts stacked along a new axis at {@code axis}; all parts have one shape and type. */
    static Tensor stack(List<Tensor> parts, int axis, String what) {
        Tensor first = parts.get(0);
        int[] shape = first.shape();
        for (Tensor p : parts) {
            if (!Arrays.equals(p.shape(), shape) || p.dtype() != first.dtype()) {
                throw new IllegalArgumentException(what + " changes shape or type between iterations: "
                        + Arrays.toString(shape) + " " + first.dtype() + " then " + Arrays.toString(p.shape()) + " "
                        + p.dtype());
            }
        }
        int inner = 1;
        for (int i = axis; i < shape.length; i++) {
            inner *= shape[i];
        }
        int outer = inner == 0 ? 0 : first.size() / inner;
        int n = parts.size();
        int[] out = new int[shape.length + 1];
        for (int i = 0, k = 0; i < out.length; i++) {
            out[i] = i == axis ? n : shape[k++];
        }
        if (first.isFloating()) {
            float[] r = new float[n * first.size()];
            for (int t = 0; t < n; t++) {
                float[] s = parts.get(t).floats();
                for (int o = 0; o < outer; o++) {
                    System.arraycopy(s, o * inner, r, (o * n + t) * inner, inner);
                }
            }
            return Tensor.ofFloats(first.dtype(), out, r);
        }
        long[] r = new long[n * first.size()];
        for (int t = 0; t < n; t++) {
            long[] s = parts.get(t).longs();
            for (int o = 0; o < outer; o++) {
                System.arraycopy(s, o * inner, r, (o * n + t) * inner, inner);
            }
        }
        return Tensor.ofLongs(first.dtype(), out, r);
    }
}
