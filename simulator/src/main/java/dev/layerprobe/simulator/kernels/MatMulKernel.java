package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * ONNX MatMul in float32 with numpy semantics: 1-D operands are promoted (and the added dimension
 * removed again), leading batch dimensions broadcast.
 *
 * <p>Each batch matrix is a blocked product ({@link Sgemm}) accumulating in float32 with k
 * ascending; tiles may be computed in parallel but each output element by one task, so results are
 * deterministic. Stateless and thread-safe.
 */
public final class MatMulKernel implements FloatKernel {
    static FloatKernel create(Node node, int opset) {
        return new MatMulKernel();
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor a = KernelArgs.required(inputs, 0, "A");
        Tensor b = KernelArgs.required(inputs, 1, "B");
        KernelArgs.requireFloating(a, "A");
        KernelArgs.requireFloating(b, "B");
        int[] as = a.shape();
        int[] bs = b.shape();
        if (as.length == 0 || bs.length == 0) {
            throw new IllegalArgumentException(
                    "MatMul operands must have rank >= 1, got " + Arrays.toString(as) + " and " + Arrays.toString(bs));
        }
        boolean aVec = as.length == 1;
        boolean bVec = bs.length == 1;
        if (aVec) {
            as = new int[] {1, as[0]};
        }
        if (bVec) {
            bs = new int[] {bs[0], 1};
        }
        int m = as[as.length - 2];
        int k = as[as.length - 1];
        int n = bs[bs.length - 1];
        if (bs[bs.length - 2] != k) {
            throw new IllegalArgumentException("MatMul shapes " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(b.shape()) + " do not match");
        }
        int[] aBatch = Arrays.copyOf(as, as.length - 2);
        int[] bBatch = Arrays.copyOf(bs, bs.length - 2);
        int[] batch = Shapes.broadcast(aBatch, bBatch);
        int[] aIdx = IndexMaps.broadcast(aBatch, batch);
        int[] bIdx = IndexMaps.broadcast(bBatch, batch);
        int nb = aIdx.length;
        float[] out = new float[nb * m * n];
        float[] ad = a.floats();
        float[] bd = b.floats();
        if (bBatch.length == 0) {
            // One B for every batch: the batches of A are consecutive rows of one product (a
            // transformer's [tokens, 1, k] x [k, n] is one [tokens, k] x [k, n] product, not
            // `tokens` products of one row). Same summation order, so the same bits.
            Sgemm.multiplyAdd(ad, 0, k, bd, 0, n, out, 0, n, nb * m, k, n, true);
        } else if (nb >= ForkJoinPool.getCommonPoolParallelism() + 1 && (long) nb * m * k * n >= Sgemm.PARALLEL_MACS) {
            // Enough batches (attention heads) to keep every thread busy: one task per batch, each
            // product sequential, instead of a fork/join per small product.
            IntStream.range(0, nb)
                    .parallel()
                    .forEach(bi -> Sgemm.multiplyAdd(
                            ad, aIdx[bi] * m * k, k, bd, bIdx[bi] * k * n, n, out, bi * m * n, n, m, k, n, false));
        } else {
            for (int bi = 0; bi < nb; bi++) {
                Sgemm.multiplyAdd(ad, aIdx[bi] * m * k, k, bd, bIdx[bi] * k * n, n, out, bi * m * n, n, m, k, n, true);
            }
        }
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        if (aVec || bVec) {
            int[] s = new int[batch.length + (aVec ? 0 : 1) + (bVec ? 0 : 1)];
            System.arraycopy(batch, 0, s, 0, batch.length);
            int p = batch.length;
            if (!aVec) {
                s[p++] = m;
            }
            if (!bVec) {
                s[p] = n;
            }
            outShape = s;
        }
        return new Tensor[] {Outputs.floats(a.dtype(), outShape, out)};
    }
}
