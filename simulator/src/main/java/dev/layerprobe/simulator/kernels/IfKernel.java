package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX If: runs {@code then_branch} when the one-element condition is true, {@code else_branch}
 * otherwise, and returns that branch's outputs. The branches read the enclosing graphs' values
 * through the {@link Scope}. Thread-safe.
 */
final class IfKernel implements FloatKernel {
    private final Subprogram thenBranch;
    private final Subprogram elseBranch;

    private IfKernel(Subprogram thenBranch, Subprogram elseBranch) {
        this.thenBranch = thenBranch;
        this.elseBranch = elseBranch;
    }

    static FloatKernel create(Node node, int opset) {
        Subprogram t = Subprogram.of(node, "then_branch");
        Subprogram e = Subprogram.of(node, "else_branch");
        if (t.outputCount() != e.outputCount()
                || t.outputCount() < node.outputs().size()) {
            throw new IllegalArgumentException("the branches have " + t.outputCount() + " and " + e.outputCount()
                    + " outputs for " + node.outputs().size() + " node outputs");
        }
        return new IfKernel(t, e);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        return run(inputs, Scope.NONE);
    }

    @Override
    public Tensor[] run(Tensor[] inputs, Scope scope) {
        boolean cond = ControlFlow.truth(KernelArgs.required(inputs, 0, "cond"), "cond");
        return (cond ? thenBranch : elseBranch).run(new Tensor[0], scope);
    }
}
