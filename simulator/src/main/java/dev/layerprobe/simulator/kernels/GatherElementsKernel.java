package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX GatherElements: {@code out[i0..ik] = data[i0.. indices[i0..ik] ..ik]} with the index replacing
 * the coordinate along {@code axis}; output shape is the indices' shape; negative indices count
 * from the end, out-of-range ones are rejected. Any element type. Thread-safe.
 */
public final class GatherElementsKernel implements FloatKernel {
    private final long axis;

    private GatherElementsKernel(long axis) {
        this.axis = axis;
    }

    static FloatKernel create(Node node, int opset) {
        return new GatherElementsKernel(node.attrInt("axis", 0));
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor data = KernelArgs.required(inputs, 0, "data");
        Tensor ind = KernelArgs.required(inputs, 1, "indices");
        long[] idx = KernelArgs.longs(ind, "indices");
        int[] ds = data.shape();
        int[] is = ind.shape();
        if (is.length != ds.length) {
            throw new IllegalArgumentException(
                    "indices " + Arrays.toString(is) + " and data " + Arrays.toString(ds) + " must have the same rank");
        }
        int a = KernelArgs.axis(axis, ds.length, "axis");
        int[] map = elementMap(ds, is, idx, a);
        return new Tensor[] {Outputs.gather(data, is, map)};
    }

    /**
     * For each element of an indices tensor (C order), the flat data position it addresses: its own
     * coordinates with the one along {@code a} replaced by the (normalised) index.
     */
    static int[] elementMap(int[] ds, int[] is, long[] idx, int a) {
        int[] dStrides = Shapes.strides(ds);
        int[] map = new int[idx.length];
        int[] ctr = new int[is.length];
        for (int p = 0; p < idx.length; p++) {
            long k = idx[p] < 0 ? idx[p] + ds[a] : idx[p];
            if (k < 0 || k >= ds[a]) {
                throw new IndexOutOfBoundsException("index " + idx[p] + " out of range for axis " + a + " of size "
                        + ds[a] + " in data " + Arrays.toString(ds));
            }
            int off = 0;
            for (int d = 0; d < is.length; d++) {
                int coord = d == a ? (int) k : ctr[d];
                if (coord >= ds[d]) {
                    throw new IndexOutOfBoundsException("indices " + Arrays.toString(is) + " exceed data "
                            + Arrays.toString(ds) + " along axis " + d);
                }
                off += coord * dStrides[d];
            }
            map[p] = off;
            for (int d = is.length - 1; d >= 0 && ++ctr[d] == is[d]; d--) {
                ctr[d] = 0;
            }
        }
        return map;
    }
}
