package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX Dropout at inference: the output is the input and the optional mask is all true (BOOL from
 * opset 10, ones of the input's type before). Training mode, which draws random numbers, is
 * rejected: the simulator is deterministic. Stateless and thread-safe.
 */
public final class DropoutKernel implements FloatKernel {
    private final boolean mask;
    private final boolean boolMask;

    DropoutKernel(Node node, int opset) {
        mask = node.outputs().size() > 1 && !node.output(1).isEmpty();
        boolMask = opset >= 10;
        if (opset < 7 && node.attrInt("is_test", 0) == 0) {
            throw new IllegalArgumentException("is_test=0 (training) is not supported (valid: 1)");
        }
    }

    static FloatKernel create(Node node, int opset) {
        return new DropoutKernel(node, opset);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "data");
        Tensor training = KernelArgs.optional(inputs, 2);
        if (training != null && training.getLong(0) != 0) {
            throw new IllegalArgumentException("training_mode=true is not supported (valid: false)");
        }
        if (!mask) {
            return new Tensor[] {x};
        }
        Tensor m;
        if (boolMask) {
            long[] ones = new long[x.size()];
            Arrays.fill(ones, 1);
            m = Tensor.ofLongs(DType.BOOL, x.shape(), ones);
        } else {
            float[] ones = new float[x.size()];
            Arrays.fill(ones, 1f);
            m = Tensor.ofFloats(x.dtype(), x.shape(), ones);
        }
        return new Tensor[] {x, m};
    }
}
