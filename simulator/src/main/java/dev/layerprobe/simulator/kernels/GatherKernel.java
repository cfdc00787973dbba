package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX Gather along {@code axis}: output shape data[:axis] + indices + data[axis+1:]; negative
 * indices count from the end; out-of-range indices are rejected. Any element type. Thread-safe.
 */
public final class GatherKernel implements FloatKernel {
    private final long axis;

    private GatherKernel(long axis) {
        this.axis = axis;
    }

    static FloatKernel create(Node node, int opset) {
        return new GatherKernel(node.attrInt("axis", 0));
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor data = KernelArgs.required(inputs, 0, "data");
        Tensor ind = KernelArgs.required(inputs, 1, "indices");
        long[] idx = KernelArgs.longs(ind, "indices");
        int[] ds = data.shape();
        int a = KernelArgs.axis(axis, ds.length, "axis");
        int len = ds[a];
        int outer = 1;
        for (int i = 0; i < a; i++) {
            outer *= ds[i];
        }
        int inner = 1;
        for (int i = a + 1; i < ds.length; i++) {
            inner *= ds[i];
        }
        int[] is = ind.shape();
        int[] outShape = new int[ds.length - 1 + is.length];
        System.arraycopy(ds, 0, outShape, 0, a);
        System.arraycopy(is, 0, outShape, a, is.length);
        System.arraycopy(ds, a + 1, outShape, a + is.length, ds.length - a - 1);
        int[] map = new int[outer * idx.length * inner];
        int p = 0;
        for (int o = 0; o < outer; o++) {
            for (long raw : idx) {
                long k = raw < 0 ? raw + len : raw;
                if (k < 0 || k >= len) {
                    throw new IndexOutOfBoundsException("index " + raw + " out of range for axis of size " + len
                            + " in data " + Arrays.toString(ds));
                }
                int base = (int) ((o * (long) len + k) * inner);
                for (int j = 0; j < inner; j++) {
                    map[p++] = base + j;
                }
            }
        }
        return new Tensor[] {Outputs.gather(data, outShape, map)};
    }
}
