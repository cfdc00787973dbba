package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX DepthToSpace and SpaceToDepth on [N, C, H, W] tensors with block size b. DepthToSpace
 * modes: DCR (default; depth is split as (b, b, C/b^2)) and CRD (split as (C/b^2, b, b)).
 * SpaceToDepth is the inverse of DCR. Stateless and thread-safe.
 */
public final class DepthToSpaceKernel implements FloatKernel {
    private final int blocksize;
    private final boolean toSpace;
    private final boolean crd;

    private DepthToSpaceKernel(Node node, boolean toSpace) {
        long b = node.attrInt("blocksize", 0);
        if (b < 1) {
            throw new IllegalArgumentException("blocksize=" + b + " must be at least 1");
        }
        blocksize = Math.toIntExact(b);
        this.toSpace = toSpace;
        crd = toSpace && KernelArgs.oneOf(node, "mode", "DCR", "DCR", "CRD").equals("CRD");
    }

    static FloatKernel depthToSpace(Node node, int opset) {
        return new DepthToSpaceKernel(node, true);
    }

    static FloatKernel spaceToDepth(Node node, int opset) {
        return new DepthToSpaceKernel(node, false);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "input");
        if (x.rank() != 4) {
            throw new IllegalArgumentException("input must be 4-D [N, C, H, W], got " + Arrays.toString(x.shape()));
        }
        int n = x.dim(0);
        int c = x.dim(1);
        int h = x.dim(2);
        int w = x.dim(3);
        int b = blocksize;
        if (toSpace) {
            if (c % (b * b) != 0) {
                throw new IllegalArgumentException("channels " + c + " not divisible by blocksize^2 " + b * b);
            }
            int co = c / (b * b);
            Tensor y = crd
                    ? TransposeKernel.permute(x.reshape(new int[] {n, co, b, b, h, w}), new int[] {0, 1, 4, 2, 5, 3})
                    : TransposeKernel.permute(x.reshape(new int[] {n, b, b, co, h, w}), new int[] {0, 3, 4, 1, 5, 2});
            return new Tensor[] {y.reshape(new int[] {n, co, h * b, w * b})};
        }
        if (h % b != 0 || w % b != 0) {
            throw new IllegalArgumentException("spatial size " + h + "x" + w + " not divisible by blocksize " + b);
        }
        Tensor y =
                TransposeKernel.permute(x.reshape(new int[] {n, c, h / b, b, w / b, b}), new int[] {0, 3, 5, 1, 2, 4});
        return new Tensor[] {y.reshape(new int[] {n, c * b * b, h / b, w / b})};
    }
}
