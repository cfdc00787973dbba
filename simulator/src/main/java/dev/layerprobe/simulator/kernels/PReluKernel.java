package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX PRelu across opsets: from opset 7 the slope broadcasts to X unidirectionally (numpy rules,
 * {@link BinaryKernels#prelu}); before opset 7 a 1-D slope of length C is per channel, i.e. along
 * axis 1 of X [N, C, ...] (what PyTorch 0.3 exported for PReLU(num_parameters=C)), so it is
 * reshaped to [C, 1, ..., 1] first. Thread-safe.
 */
public final class PReluKernel {
    private PReluKernel() {}

    static FloatKernel create(Node node, int opset) {
        FloatKernel numpy = BinaryKernels.prelu(node, opset);
        if (opset >= 7) {
            return numpy;
        }
        return inputs -> {
            Tensor x = KernelArgs.required(inputs, 0, "X");
            Tensor slope = KernelArgs.required(inputs, 1, "slope");
            if (slope.rank() == 1 && x.rank() > 2 && slope.size() == x.dim(1) && slope.size() > 1) {
                int[] shape = new int[x.rank() - 1];
                java.util.Arrays.fill(shape, 1);
                shape[0] = slope.size();
                return numpy.run(new Tensor[] {x, slope.reshape(shape)});
            }
            return numpy.run(inputs);
        };
    }
}
