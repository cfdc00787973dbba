package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/** ONNX Where: condition ? X : Y with numpy broadcasting of all three. Any element type. Thread-safe. */
public final class WhereKernel implements FloatKernel {
    static FloatKernel create(Node node, int opset) {
        return new WhereKernel();
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor c = KernelArgs.required(inputs, 0, "condition");
        Tensor x = KernelArgs.required(inputs, 1, "X");
        Tensor y = KernelArgs.required(inputs, 2, "Y");
        if (c.dtype() != DType.BOOL || x.dtype() != y.dtype()) {
            throw new IllegalArgumentException("Where needs a BOOL condition and X, Y of one type, got " + c.dtype()
                    + ", " + x.dtype() + ", " + y.dtype());
        }
        int[] shape = Shapes.broadcast(Shapes.broadcast(c.shape(), x.shape()), y.shape());
        int[] ic = IndexMaps.broadcast(c.shape(), shape);
        int[] ix = IndexMaps.broadcast(x.shape(), shape);
        int[] iy = IndexMaps.broadcast(y.shape(), shape);
        long[] cs = c.longs();
        if (x.isFloating()) {
            float[] r = new float[ic.length];
            for (int i = 0; i < r.length; i++) {
                r[i] = cs[ic[i]] != 0 ? x.floats()[ix[i]] : y.floats()[iy[i]];
            }
            return new Tensor[] {Tensor.ofFloats(x.dtype(), shape, r)};
        }
        long[] r = new long[ic.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = cs[ic[i]] != 0 ? x.longs()[ix[i]] : y.longs()[iy[i]];
        }
        return new Tensor[] {Tensor.ofLongs(x.dtype(), shape, r)};
    }
}
