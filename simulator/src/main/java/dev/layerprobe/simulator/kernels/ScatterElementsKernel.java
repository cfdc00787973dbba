package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX ScatterElements (and the deprecated Scatter, its opset-9 name): a copy of data where
 * {@code out[.. indices[p] ..] = updates[p]} along {@code axis}, or combined with the existing
 * value by {@code reduction} (none, add, mul, max, min). Updates are applied in C order of the
 * indices, so with duplicate indices and no reduction the last one wins. Any element type;
 * floating reductions are in float32. Thread-safe.
 */
public final class ScatterElementsKernel implements FloatKernel {
    private final long axis;
    private final String reduction;

    private ScatterElementsKernel(long axis, String reduction) {
        this.axis = axis;
        this.reduction = reduction;
    }

    static FloatKernel create(Node node, int opset) {
        return new ScatterElementsKernel(node.attrInt("axis", 0), reduction(node));
    }

    static String reduction(Node node) {
        return KernelArgs.oneOf(node, "reduction", "none", "none", "add", "mul", "max", "min");
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor data = KernelArgs.required(inputs, 0, "data");
        Tensor ind = KernelArgs.required(inputs, 1, "indices");
        Tensor upd = KernelArgs.required(inputs, 2, "updates");
        if (!Arrays.equals(ind.shape(), upd.shape())) {
            throw new IllegalArgumentException("indices " + Arrays.toString(ind.shape()) + " and updates "
                    + Arrays.toString(upd.shape()) + " must have the same shape");
        }
        int[] ds = data.shape();
        int a = KernelArgs.axis(axis, ds.length, "axis");
        int[] map = GatherElementsKernel.elementMap(ds, ind.shape(), KernelArgs.longs(ind, "indices"), a);
        return new Tensor[] {scatter(data, upd, map, reduction)};
    }

    /** A copy of data with updates element p combined into position map[p], in order. */
    static Tensor scatter(Tensor data, Tensor upd, int[] map, String reduction) {
        if (data.isFloating() != upd.isFloating()) {
            throw new IllegalArgumentException(
                    "updates of type " + upd.dtype() + " do not match data of type " + data.dtype());
        }
        if (data.isFloating()) {
            float[] out = data.floats().clone();
            float[] u = upd.floats();
            for (int p = 0; p < map.length; p++) {
                float o = out[map[p]];
                out[map[p]] = switch (reduction) {
                    case "add" -> o + u[p];
                    case "mul" -> o * u[p];
                    case "max" -> Math.max(o, u[p]);
                    case "min" -> Math.min(o, u[p]);
                    default -> u[p];
                };
            }
            return Outputs.floats(data.dtype(), data.shape(), out);
        }
        long[] out = data.longs().clone();
        long[] u = upd.longs();
        for (int p = 0; p < map.length; p++) {
            long o = out[map[p]];
            out[map[p]] = switch (reduction) {
                case "add" -> o + u[p];
                case "mul" -> o * u[p];
                case "max" -> Math.max(o, u[p]);
                case "min" -> Math.min(o, u[p]);
                default -> u[p];
            };
        }
        return Outputs.longs(data.dtype(), data.shape(), out);
    }
}
