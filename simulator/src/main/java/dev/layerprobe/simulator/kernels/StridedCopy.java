package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;

/**
 * A strided view of a tensor copied into a fresh C-order tensor: element (i0..ik) of the view is
 * the source element {@code offset + sum(i_d * strides_d)}, as in {@link IndexMaps#strided}, but
 * without building the index map. Transpose, Slice and Split are such views.
 *
 * <p>The view is simplified first: size-1 dimensions are dropped and neighbours that walk the
 * source as one dimension are merged. Then the copy is a loop over contiguous runs
 * ({@code System.arraycopy}) when the innermost stride is 1, else a strided loop per output row;
 * a view that is the whole source in order shares the source's data (tensors are immutable, as
 * Reshape shares). Data movement only: the values are those of an index-map gather, bit for bit.
 * Stateless.
 */
final class StridedCopy {
    private StridedCopy() {}

    /** The view of {@code src} with the given shape, strides (in elements) and offset, as a new tensor. */
    static Tensor copy(Tensor src, int[] shape, int[] strides, int offset) {
        int n = Math.toIntExact(Shapes.size(shape));
        // Simplified view: dims[0..r) and steps[0..r), outermost first.
        int[] dims = new int[shape.length];
        int[] steps = new int[shape.length];
        int r = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) {
                continue;
            }
            if (r > 0 && steps[r - 1] == strides[d] * (long) shape[d]) {
                dims[r - 1] *= shape[d];
                steps[r - 1] = strides[d];
            } else {
                dims[r] = shape[d];
                steps[r] = strides[d];
                r++;
            }
        }
        boolean floating = src.isFloating();
        if (n == 0) {
            return floating
                    ? Tensor.ofFloats(src.dtype(), shape, new float[0])
                    : Tensor.ofLongs(src.dtype(), shape, new long[0]);
        }
        int inner = r == 0 ? 1 : dims[r - 1];
        int step = r == 0 ? 1 : steps[r - 1];
        if (r <= 1 && step == 1 && offset == 0 && n == src.size()) {
            return src.reshape(shape);
        }
        Object from = floating ? src.floats() : src.longs();
        Object to = floating ? new float[n] : new long[n];
        int[] counter = new int[Math.max(r - 1, 0)];
        int pos = offset;
        for (int o = 0; o < n; o += inner) {
            if (step == 1) {
                System.arraycopy(from, pos, to, o, inner);
            } else if (floating) {
                strided((float[]) from, pos, step, (float[]) to, o, inner);
            } else {
                strided((long[]) from, pos, step, (long[]) to, o, inner);
            }
            // Next output row: odometer over the outer dimensions, innermost of them first.
            for (int d = r - 2; d >= 0; d--) {
                pos += steps[d];
                if (++counter[d] < dims[d]) {
                    break;
                }
                pos -= steps[d] * dims[d];
                counter[d] = 0;
            }
        }
        return floating
                ? Tensor.ofFloats(src.dtype(), shape, (float[]) to)
                : Tensor.ofLongs(src.dtype(), shape, (long[]) to);
    }

    private static void strided(float[] from, int pos, int step, float[] to, int o, int len) {
        for (int j = 0; j < len; j++) {
            to[o + j] = from[pos + j * step];
        }
    }

    private static void strided(long[] from, int pos, int step, long[] to, int o, int len) {
        for (int j = 0; j < len; j++) {
            to[o + j] = from[pos + j * step];
        }
    }
}
