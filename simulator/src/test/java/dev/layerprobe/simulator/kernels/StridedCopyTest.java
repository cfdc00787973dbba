package dev.layerprobe.simulator.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Transpose, Slice and Split copy their strided views run by run ({@link StridedCopy}); the values
 * must be those of the index-map gather (the general path), for views whose runs are contiguous,
 * strided, merged across dimensions or of size-1 dimensions only, in float and integer tensors.
 */
class StridedCopyTest {
    private static Tensor iota(DType type, int... shape) {
        int n = Math.toIntExact(Shapes.size(shape));
        if (type.isFloating()) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = i * 0.5f - 3f;
            }
            return Tensor.ofFloats(type, shape, v);
        }
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            v[i] = i * 7L - 11;
        }
        return Tensor.ofLongs(type, shape, v);
    }

    private static Tensor gather(Tensor x, int[] shape, int[] strides, int offset) {
        return Outputs.gather(x, shape, IndexMaps.strided(shape, strides, offset));
    }

    private static void assertSameValues(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        assertEquals(expected.dtype(), actual.dtype(), what);
        if (expected.isFloating()) {
            assertArrayEquals(expected.floats(), actual.floats(), 0f, what);
        } else {
            assertArrayEquals(expected.longs(), actual.longs(), what);
        }
    }

    @Test
    void transposesMatchTheGather() {
        Object[][] cases = {
            {new int[] {1, 128, 12}, new int[] {0, 2, 1}}, // last two axes: strided rows
            {new int[] {1, 12, 128}, new int[] {1, 0, 2}}, // a size-1 axis moves: shared data
            {new int[] {12, 4, 32}, new int[] {1, 0, 2}}, // runs of 32
            {new int[] {12, 4, 32}, new int[] {1, 2, 0}}, // (4, 32) merge: one 2-D transpose
            {new int[] {2, 3, 4, 5}, new int[] {0, 2, 1, 3}},
            {new int[] {2, 3, 4, 5}, new int[] {3, 2, 1, 0}},
            {new int[] {2, 1, 3, 1}, new int[] {3, 0, 1, 2}},
            {new int[] {7}, new int[] {0}},
            {new int[] {}, new int[] {}},
            {new int[] {3, 0, 2}, new int[] {2, 1, 0}},
        };
        for (DType type : new DType[] {DType.FLOAT32, DType.INT64}) {
            for (Object[] c : cases) {
                int[] shape = (int[]) c[0];
                int[] perm = (int[]) c[1];
                Tensor x = iota(type, shape);
                int[] in = Shapes.strides(shape);
                int[] strides = new int[perm.length];
                for (int i = 0; i < perm.length; i++) {
                    strides[i] = in[perm[i]];
                }
                Tensor expected = gather(x, IndexMaps.permute(shape, perm), strides, 0);
                Tensor actual = TransposeKernel.permute(x, perm);
                assertSameValues(
                        expected, actual, type + " " + Arrays.toString(shape) + " perm " + Arrays.toString(perm));
            }
        }
    }

    @Test
    void movingOnlySizeOneAxesSharesTheData() {
        Tensor x = iota(DType.FLOAT32, 1, 12, 128);
        assertSame(x.floats(), TransposeKernel.permute(x, new int[] {1, 0, 2}).floats());
        assertNotSame(
                x.floats(), TransposeKernel.permute(x, new int[] {0, 2, 1}).floats());
    }

    @Test
    void slicesAndSplitsMatchTheGather() {
        Tensor x = iota(DType.FLOAT32, 6, 1, 40);
        long[][] slices = { // starts, ends, axes, steps
            {0, 32, 2, 1}, // contiguous runs: the attention split of q, k, v
            {32, 40, 2, 1},
            {1, 5, 0, 1}, // whole rows: one run
            {39, 0, 2, -3}, // backwards
            {0, 40, 2, 2},
            {5, -100, 0, -1},
        };
        for (long[] s : slices) {
            Node node = new Node("s", "Slice", "", List.of("x", "st", "en", "ax", "sp"), List.of("y"), Map.of());
            Tensor actual = FloatKernels.create(node, 13)
                    .run(new Tensor[] {x, longs(s[0]), longs(s[1]), longs(s[2]), longs(s[3])})[0];
            int ax = (int) s[2];
            int dim = x.dim(ax);
            long step = s[3];
            long start = s[0] < 0 ? s[0] + dim : s[0];
            long end = s[1] < 0 ? s[1] + dim : s[1];
            start = step > 0 ? Math.min(Math.max(start, 0), dim) : Math.min(Math.max(start, 0), dim - 1);
            end = step > 0 ? Math.min(Math.max(end, 0), dim) : Math.min(Math.max(end, -1), dim - 1);
            int count =
                    (int) Math.max(0, step > 0 ? (end - start + step - 1) / step : (start - end - step - 1) / -step);
            int[] shape = x.shape();
            shape[ax] = count;
            int[] strides = Shapes.strides(x.shape());
            int offset = (int) (start * strides[ax]);
            strides[ax] *= (int) step;
            assertSameValues(gather(x, shape, strides, offset), actual, "slice " + Arrays.toString(s));
        }
        Node split =
                new Node("p", "Split", "", List.of("x"), List.of("a", "b", "c"), Map.of("axis", Attribute.ofInt(2)));
        Tensor[] parts = FloatKernels.create(split, 11).run(new Tensor[] {x});
        int[] strides = Shapes.strides(x.shape());
        for (int i = 0; i < 3; i++) {
            int[] shape = {6, 1, i < 2 ? 14 : 12};
            assertSameValues(gather(x, shape, strides, i * 14), parts[i], "split part " + i);
        }
    }

    private static Tensor longs(long v) {
        return Tensor.ofLongs(DType.INT64, new int[] {1}, new long[] {v});
    }
}
