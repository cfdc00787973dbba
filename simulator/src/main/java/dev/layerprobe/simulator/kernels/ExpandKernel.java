package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX Expand (broadcast the input with the shape input, numpy rules in both directions) and
 * Tile (repeat the input {@code repeats[i]} times along each dimension). Any element type.
 * Stateless and thread-safe.
 */
public final class ExpandKernel implements FloatKernel {
    private final boolean tile;

    private ExpandKernel(boolean tile) {
        this.tile = tile;
    }

    static FloatKernel expand(Node node, int opset) {
        return new ExpandKernel(false);
    }

    static FloatKernel tile(Node node, int opset) {
        return new ExpandKernel(true);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "input");
        long[] arg = KernelArgs.longs(
                KernelArgs.required(inputs, 1, tile ? "repeats" : "shape"), tile ? "repeats" : "shape");
        int[] in = x.shape();
        if (!tile) {
            int[] out = Shapes.broadcast(in, KernelArgs.toInts(arg));
            return new Tensor[] {Outputs.gather(x, out, IndexMaps.broadcast(in, out))};
        }
        if (arg.length != in.length) {
            throw new IllegalArgumentException(
                    "repeats has " + arg.length + " values for an input of rank " + in.length);
        }
        int r = in.length;
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            out[i] = Math.toIntExact(in[i] * arg[i]);
        }
        int n = Math.toIntExact(Shapes.size(out));
        int[] strides = Shapes.strides(in);
        int[] map = new int[n];
        int[] o = new int[r];
        for (int p = 0; p < n; p++) {
            int off = 0;
            for (int i = 0; i < r; i++) {
                off += (o[i] % in[i]) * strides[i];
            }
            map[p] = off;
            for (int i = r - 1; i >= 0 && ++o[i] == out[i]; i--) {
                o[i] = 0;
            }
        }
        return new Tensor[] {Outputs.gather(x, out, map)};
    }
}
