package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;
import java.util.Comparator;

/**
 * ONNX TopK along {@code axis}: the k largest (or, with largest=0, smallest) values and their
 * INT64 indices, in sorted order; equal values keep the lower index first. k is the attribute
 * before opset 10 and input 1 from 10. Thread-safe.
 */
public final class TopKKernel implements FloatKernel {
    private final long axis;
    private final boolean largest;
    private final Long attrK;

    private TopKKernel(Node node, int opset) {
        axis = node.attrInt("axis", -1);
        largest = KernelArgs.oneOf(node, "largest", 1, 0, 1) == 1;
        KernelArgs.oneOf(node, "sorted", 1, 1);
        attrK = opset < 10 ? node.attrInt("k", 0) : null;
    }

    static FloatKernel create(Node node, int opset) {
        return new TopKKernel(node, opset);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        long k = attrK != null ? attrK : KernelArgs.longs(KernelArgs.required(inputs, 1, "K"), "K")[0];
        int[] in = x.shape();
        int a = KernelArgs.axis(axis, in.length, "axis");
        int len = in[a];
        if (k < 0 || k > len) {
            throw new IllegalArgumentException("K=" + k + " is out of range for an axis of size " + len);
        }
        int innerSize = 1;
        for (int i = a + 1; i < in.length; i++) {
            innerSize *= in[i];
        }
        final int inner = innerSize;
        int outer = x.size() / Math.max(1, len * inner);
        int[] outShape = in.clone();
        outShape[a] = (int) k;
        int kk = (int) k;
        int[] map = new int[outer * kk * inner];
        long[] idx = new long[map.length];
        Integer[] order = new Integer[len];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < inner; j++) {
                int base = o * len * inner + j;
                for (int t = 0; t < len; t++) {
                    order[t] = t;
                }
                Comparator<Integer> byValue = Comparator.comparingDouble(t -> x.getDouble(base + t * inner));
                Arrays.sort(order, (largest ? byValue.reversed() : byValue).thenComparingInt(t -> t));
                for (int t = 0; t < kk; t++) {
                    int p = (o * kk + t) * inner + j;
                    map[p] = base + order[t] * inner;
                    idx[p] = order[t];
                }
            }
        }
        return new Tensor[] {Outputs.gather(x, outShape, map), Tensor.ofLongs(DType.INT64, outShape, idx)};
    }
}
