package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/** ONNX Identity: returns its input tensor itself (tensors are immutable). Thread-safe. */
public final class IdentityKernel implements FloatKernel {
    static FloatKernel create(Node node, int opset) {
        return new IdentityKernel();
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        return new Tensor[] {KernelArgs.required(inputs, 0, "input")};
    }
}
