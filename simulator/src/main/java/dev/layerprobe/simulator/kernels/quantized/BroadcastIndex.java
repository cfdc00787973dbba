package dev.layerprobe.simulator.kernels.quantized;

import java.util.Arrays;

/** Source indices of numpy broadcasting, for kernels that read an input at output positions. */
final class BroadcastIndex {
    private BroadcastIndex() {}

    /** For each output element, the index in an input of shape {@code in}; null when shapes are equal. */
    static int[] map(int[] in, int[] out) {
        if (Arrays.equals(in, out)) {
            return null;
        }
        int r = out.length;
        int[] inStr = new int[r];
        int acc = 1;
        for (int i = r - 1; i >= 0; i--) {
            int k = i - (r - in.length);
            int d = k >= 0 ? in[k] : 1;
            inStr[i] = d == 1 ? 0 : acc;
            acc *= d;
        }
        int size = 1;
        for (int d : out) {
            size *= d;
        }
        int[] idx = new int[size];
        int[] pos = new int[r];
        int src = 0;
        for (int i = 0; i < size; i++) {
            idx[i] = src;
            for (int d = r - 1; d >= 0; d--) {
                pos[d]++;
                src += inStr[d];
                if (pos[d] < out[d]) {
                    break;
                }
                src -= inStr[d] * pos[d];
                pos[d] = 0;
            }
        }
        return idx;
    }
}
