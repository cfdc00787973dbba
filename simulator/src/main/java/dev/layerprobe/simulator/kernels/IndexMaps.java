package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Shapes;
import java.util.Arrays;

/**
 * Flat index maps for data-movement kernels: for every element of an output (in C order), the flat
 * index of the input element it comes from. Expand and broadcasting are a strided walk over the
 * input, which is what {@link #strided} computes; Transpose, Slice and Split copy their strided
 * views without a map ({@link StridedCopy}).
 */
final class IndexMaps {
    private IndexMaps() {}

    /** Index map of a strided view: element (i0..ik) of outShape reads offset + sum(i_d * strides_d). */
    static int[] strided(int[] outShape, int[] strides, int offset) {
        int n = Math.toIntExact(Shapes.size(outShape));
        int r = outShape.length;
        int[] idx = new int[n];
        if (n == 0) {
            return idx;
        }
        int[] ctr = new int[r];
        int cur = offset;
        int inner = r == 0 ? 1 : outShape[r - 1];
        int innerStride = r == 0 ? 0 : strides[r - 1];
        for (int k = 0; k < n; k += inner) {
            for (int j = 0; j < inner; j++) {
                idx[k + j] = cur + j * innerStride;
            }
            for (int d = r - 2; d >= 0; d--) {
                ctr[d]++;
                cur += strides[d];
                if (ctr[d] < outShape[d]) {
                    break;
                }
                cur -= strides[d] * outShape[d];
                ctr[d] = 0;
            }
        }
        return idx;
    }

    /** Index map reading a tensor of shape in broadcast (numpy rules) to outShape. */
    static int[] broadcast(int[] in, int[] outShape) {
        int r = outShape.length;
        if (in.length > r) {
            throw new IllegalArgumentException(
                    "cannot broadcast " + Arrays.toString(in) + " to " + Arrays.toString(outShape));
        }
        int[] inStrides = Shapes.strides(in);
        int[] st = new int[r];
        for (int i = 0; i < r; i++) {
            int j = i - (r - in.length);
            if (j >= 0 && in[j] != 1) {
                if (in[j] != outShape[i]) {
                    throw new IllegalArgumentException(
                            "cannot broadcast " + Arrays.toString(in) + " to " + Arrays.toString(outShape));
                }
                st[i] = inStrides[j];
            }
        }
        return strided(outShape, st, 0);
    }

    static int[] permute(int[] shape, int[] perm) {
        int[] out = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            out[i] = shape[perm[i]];
        }
        return out;
    }
}
