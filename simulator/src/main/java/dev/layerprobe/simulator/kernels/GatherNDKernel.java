package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX GatherND and ScatterND. Indices have shape {@code [b..., q..., k]} where the last dimension
 * addresses the first {@code k} data dimensions after the {@code batch_dims} leading ones (GatherND
 * only; ScatterND has no batch dims); each index tuple selects a slice of the remaining data
 * dimensions. Negative indices count from the end. ScatterND applies updates in C order with
 * {@code reduction} none, add, mul, max or min. Any element type. Thread-safe.
 */
public final class GatherNDKernel implements FloatKernel {
    private final int batchDims;
    private final String reduction;
    private final boolean scatter;

    private GatherNDKernel(int batchDims, String reduction, boolean scatter) {
        this.batchDims = batchDims;
        this.reduction = reduction;
        this.scatter = scatter;
    }

    static FloatKernel gatherNd(Node node, int opset) {
        long b = node.attrInt("batch_dims", 0);
        if (b < 0) {
            throw new IllegalArgumentException("batch_dims=" + b + " must be non-negative");
        }
        return new GatherNDKernel((int) b, "none", false);
    }

    static FloatKernel scatterNd(Node node, int opset) {
        return new GatherNDKernel(0, ScatterElementsKernel.reduction(node), true);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor data = KernelArgs.required(inputs, 0, "data");
        Tensor ind = KernelArgs.required(inputs, 1, "indices");
        long[] idx = KernelArgs.longs(ind, "indices");
        int[] ds = data.shape();
        int[] is = ind.shape();
        if (is.length < 1 || is.length <= batchDims || ds.length <= batchDims) {
            throw new IllegalArgumentException("indices " + Arrays.toString(is) + " and data " + Arrays.toString(ds)
                    + " need more than batch_dims=" + batchDims + " dimensions");
        }
        int k = is[is.length - 1];
        if (k > ds.length - batchDims) {
            throw new IllegalArgumentException("index tuples of length " + k + " exceed data " + Arrays.toString(ds)
                    + " after batch_dims=" + batchDims);
        }
        int batch = 1;
        for (int i = 0; i < batchDims; i++) {
            if (is[i] != ds[i]) {
                throw new IllegalArgumentException("batch dimension " + i + " differs: indices " + Arrays.toString(is)
                        + ", data " + Arrays.toString(ds));
            }
            batch *= ds[i];
        }
        int tuples = 1;
        for (int i = batchDims; i < is.length - 1; i++) {
            tuples *= is[i];
        }
        int slice = 1;
        for (int i = batchDims + k; i < ds.length; i++) {
            slice *= ds[i];
        }
        int[] dStrides = Shapes.strides(ds);
        int batchStride = batchDims == 0 ? 0 : dStrides[batchDims - 1];
        int[] map = new int[batch * tuples * slice];
        int p = 0;
        for (int bi = 0; bi < batch; bi++) {
            for (int t = 0; t < tuples; t++) {
                int off = bi * batchStride;
                int base = (bi * tuples + t) * k;
                for (int j = 0; j < k; j++) {
                    int dim = ds[batchDims + j];
                    long v = idx[base + j] < 0 ? idx[base + j] + dim : idx[base + j];
                    if (v < 0 || v >= dim) {
                        throw new IndexOutOfBoundsException("index " + idx[base + j] + " out of range for dimension "
                                + (batchDims + j) + " of size " + dim + " in data " + Arrays.toString(ds));
                    }
                    off += (int) v * dStrides[batchDims + j];
                }
                for (int e = 0; e < slice; e++) {
                    map[p++] = off + e;
                }
            }
        }
        if (scatter) {
            Tensor upd = KernelArgs.required(inputs, 2, "updates");
            if (upd.size() != map.length) {
                throw new IllegalArgumentException("updates " + Arrays.toString(upd.shape()) + " hold " + upd.size()
                        + " values, indices select " + map.length);
            }
            return new Tensor[] {ScatterElementsKernel.scatter(data, upd, map, reduction)};
        }
        int[] outShape = new int[is.length - 1 + ds.length - batchDims - k];
        System.arraycopy(is, 0, outShape, 0, is.length - 1);
        System.arraycopy(ds, batchDims + k, outShape, is.length - 1, ds.length - batchDims - k);
        return new Tensor[] {Outputs.gather(data, outShape, map)};
    }
}
