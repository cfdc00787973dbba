package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX NonZero: the coordinates of the non-zero elements as INT64 {@code [rank, count]}, in C order
 * of the elements (numpy's nonzero); a rank-0 input gives {@code [0, count]}. Any element type.
 * Thread-safe.
 */
public final class NonZeroKernel implements FloatKernel {
    static FloatKernel create(Node node, int opset) {
        return new NonZeroKernel();
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        int[] shape = x.shape();
        int r = shape.length;
        int n = x.size();
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (x.getDouble(i) != 0) {
                count++;
            }
        }
        long[] out = new long[r * count];
        int[] ctr = new int[r];
        int c = 0;
        for (int i = 0; i < n; i++) {
            if (x.getDouble(i) != 0) {
                for (int d = 0; d < r; d++) {
                    out[d * count + c] = ctr[d];
                }
                c++;
            }
            for (int d = r - 1; d >= 0 && ++ctr[d] == shape[d]; d--) {
                ctr[d] = 0;
            }
        }
        return new Tensor[] {Tensor.ofLongs(DType.INT64, new int[] {r, count}, out)};
    }
}
