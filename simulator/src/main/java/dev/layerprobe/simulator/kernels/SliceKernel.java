package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX Slice: starts/ends/axes as attributes before opset 10, then starts, ends and optional axes
 * and steps as inputs. Negative values count from the end; starts and ends are clamped as the
 * spec says (to [0, dim] for positive steps, [-1, dim-1] for negative). Any element type.
 * Stateless and thread-safe.
 */
public final class SliceKernel implements FloatKernel {
    private final boolean attrs;
    private final long[] attrStarts;
    private final long[] attrEnds;
    private final long[] attrAxes;

    private SliceKernel(Node node, int opset) {
        attrs = opset < 10;
        attrStarts = node.attrInts("starts", null);
        attrEnds = node.attrInts("ends", null);
        attrAxes = node.attrInts("axes", null);
    }

    static FloatKernel create(Node node, int opset) {
        return new SliceKernel(node, opset);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "data");
        long[] starts;
        long[] ends;
        long[] axes;
        long[] steps = null;
        if (attrs) {
            starts = attrStarts;
            ends = attrEnds;
            axes = attrAxes;
        } else {
            starts = KernelArgs.longs(KernelArgs.required(inputs, 1, "starts"), "starts");
            ends = KernelArgs.longs(KernelArgs.required(inputs, 2, "ends"), "ends");
            Tensor a = KernelArgs.optional(inputs, 3);
            Tensor s = KernelArgs.optional(inputs, 4);
            axes = a == null ? null : KernelArgs.longs(a, "axes");
            steps = s == null ? null : KernelArgs.longs(s, "steps");
        }
        if (starts == null || ends == null || starts.length != ends.length) {
            throw new IllegalArgumentException("starts and ends must be given with the same length");
        }
        int r = x.rank();
        int[] in = x.shape();
        int[] inStrides = Shapes.strides(in);
        int[] outShape = in.clone();
        int[] strides = inStrides.clone();
        int offset = 0;
        for (int i = 0; i < starts.length; i++) {
            int ax = axes == null ? i : KernelArgs.axis(axes[i], r, "axes");
            long step = steps == null ? 1 : steps[i];
            if (step == 0) {
                throw new IllegalArgumentException("steps must not be 0");
            }
            long dim = in[ax];
            long st = starts[i] < 0 ? starts[i] + dim : starts[i];
            long en = ends[i] < 0 ? ends[i] + dim : ends[i];
            if (step > 0) {
                st = Math.max(0, Math.min(dim, st));
                en = Math.max(0, Math.min(dim, en));
            } else {
                st = Math.max(0, Math.min(dim - 1, st));
                en = Math.max(-1, Math.min(dim - 1, en));
            }
            long count = step > 0 ? (en - st + step - 1) / step : (st - en - step - 1) / -step;
            outShape[ax] = (int) Math.max(0, count);
            strides[ax] = (int) (inStrides[ax] * step);
            if (outShape[ax] > 0) {
                offset += (int) (st * inStrides[ax]);
            }
        }
        return new Tensor[] {StridedCopy.copy(x, outShape, strides, offset)};
    }
}
