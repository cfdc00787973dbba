package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;

/**
 * The float32 reference computation of one ONNX node, bound to that node's attributes.
 *
 * <p>Inputs arrive in the node's input order; an omitted optional input is {@code null}. Kernels
 * allocate their outputs and never modify inputs, unless given leave to ({@link #runReusing}). Implementations are stateless after
 * construction and may be called from several threads.
 */
@FunctionalInterface
public interface FloatKernel {
    Tensor[] run(Tensor[] inputs);

    /**
     * Runs the kernel inside a run that provides outer-scope values: control-flow kernels, whose
     * subgraphs read values of the enclosing graphs, override it; every other kernel ignores the
     * scope. Interpreters call this form.
     */
    default Tensor[] run(Tensor[] inputs, Scope scope) {
        return run(inputs);
    }

    /**
     * Runs the kernel with leave to write its output into the data of {@code inputs[reusable]}: a
     * value its caller will not read again, whose data no other live value shares. Elementwise
     * kernels whose output has that input's shape and type use it and save a fresh array (a fused
     * activation's intermediate results); the others ignore the leave. The values are those of
     * {@link #run(Tensor[])}.
     */
    default Tensor[] runReusing(Tensor[] inputs, int reusable) {
        return run(inputs);
    }
}
