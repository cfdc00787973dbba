package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.Shapes;
import java.util.Arrays;

/**
 * The shapes of an ONNX MatMul (numpy semantics) for the integer kernels: 1-D operands promoted
 * ({@code [k]} as {@code [1, k]} on the left, {@code [k, 1]} on the right) and the added dimension
 * removed from the output, leading batch dimensions broadcast.
 *
 * @param aIdx per output batch, the batch of A it reads; null when A's batches are the output's
 * @param bIdx likewise for B
 * @param outShape the output's shape
 */
record MatMulShape(int m, int k, int n, int batches, int[] aIdx, int[] bIdx, int[] outShape) {

    /** @throws IllegalArgumentException naming both shapes when they cannot be multiplied */
    static MatMulShape of(int[] as, int[] bs) {
        if (as.length == 0 || bs.length == 0) {
            throw new IllegalArgumentException(
                    "MatMul operands must have rank >= 1, got " + Arrays.toString(as) + " and " + Arrays.toString(bs));
        }
        boolean aVec = as.length == 1;
        boolean bVec = bs.length == 1;
        int[] a2 = aVec ? new int[] {1, as[0]} : as;
        int[] b2 = bVec ? new int[] {bs[0], 1} : bs;
        int m = a2[a2.length - 2];
        int k = a2[a2.length - 1];
        int n = b2[b2.length - 1];
        if (b2[b2.length - 2] != k) {
            throw new IllegalArgumentException(
                    "MatMul shapes " + Arrays.toString(as) + " and " + Arrays.toString(bs) + " do not match");
        }
        int[] aBatch = Arrays.copyOf(a2, a2.length - 2);
        int[] bBatch = Arrays.copyOf(b2, b2.length - 2);
        int[] batch = Shapes.broadcast(aBatch, bBatch);
        int batches = 1;
        for (int d : batch) {
            batches *= d;
        }
        int[] out = Arrays.copyOf(batch, batch.length + (aVec ? 0 : 1) + (bVec ? 0 : 1));
        int p = batch.length;
        if (!aVec) {
            out[p++] = m;
        }
        if (!bVec) {
            out[p] = n;
        }
        return new MatMulShape(
                m, k, n, batches, BroadcastIndex.map(aBatch, batch), BroadcastIndex.map(bBatch, batch), out);
    }

    /** Start of the {@code i}-th row of A in output batch {@code bi}. */
    int aRow(int bi, int i) {
        return ((aIdx == null ? bi : aIdx[bi]) * m + i) * k;
    }

    /** Start of B's matrix for output batch {@code bi}. */
    int bMatrix(int bi) {
        return (bIdx == null ? bi : bIdx[bi]) * k * n;
    }
}
