package dev.layerprobe.simulator.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BinaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The row fast paths of elementwise arithmetic, Gemm's bias and LayerNormalization's scale and
 * bias give, bit for bit, what an element-by-element loop over numpy-broadcast indices gives (the
 * general path), on shapes that take each fast path and shapes that miss it; batched MatMul, a
 * task per head or one product, gives the naive loop's bits.
 */
class BroadcastFastPathsTest {
    private static final Random RANDOM = new Random(17);

    private static Tensor random(int... shape) {
        float[] v = new float[Math.toIntExact(Shapes.size(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) RANDOM.nextGaussian();
        }
        return Tensor.ofFloats(shape, v);
    }

    private static Tensor run(String op, Map<String, Attribute> attrs, Tensor... inputs) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < inputs.length; i++) {
            names.add("in" + i);
        }
        Node node = new Node("n", op, "", names, List.of("y"), attrs);
        return FloatKernels.create(node, 17).run(inputs)[0];
    }

    /** a op b element by element, through numpy-broadcast index maps. */
    private static float[] reference(Tensor a, Tensor b, BinaryOperator<Float> op) {
        int[] shape = Shapes.broadcast(a.shape(), b.shape());
        int[] ia = IndexMaps.broadcast(a.shape(), shape);
        int[] ib = IndexMaps.broadcast(b.shape(), shape);
        float[] r = new float[ia.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = op.apply(a.floats()[ia[i]], b.floats()[ib[i]]);
        }
        return r;
    }

    @Test
    void arithmeticWithARowOrAScalarOnEitherSide() {
        int[][][] pairs = {
            {{384}, {144, 1, 384}}, // bias first: swapped onto the row path (scratch rows)
            {{144, 1, 384}, {384}}, // bias second
            {{1, 512}, {1, 144, 512}},
            {{8}, {3, 5, 8}}, // a short row: the plain row loop
            {{3, 5, 8}, {1, 1, 8}},
            {{}, {4, 100}}, // scalar first
            {{4, 100}, {1}},
            {{144, 1}, {144, 384}}, // a column: the general path
            {{2, 1, 40}, {3, 40}}, // both broadcast: the general path
            {{6, 7}, {6, 7}},
        };
        Map<String, BinaryOperator<Float>> ops = Map.of(
                "Add", (x, y) -> x + y,
                "Sub", (x, y) -> x - y,
                "Mul", (x, y) -> x * y,
                "Div", (x, y) -> x / y,
                "Max", Math::max,
                "Min", Math::min);
        for (int[][] p : pairs) {
            Tensor a = random(p[0]);
            Tensor b = random(p[1]);
            for (Map.Entry<String, BinaryOperator<Float>> op : ops.entrySet()) {
                Tensor y = run(op.getKey(), Map.of(), a, b);
                String what = op.getKey() + " " + Arrays.toString(p[0]) + " " + Arrays.toString(p[1]);
                assertArrayEquals(Shapes.broadcast(a.shape(), b.shape()), y.shape(), what);
                assertArrayEquals(reference(a, b, op.getValue()), y.floats(), 0f, what);
            }
        }
    }

    @Test
    void arithmeticIntoAnOperandGivesTheSameValues() {
        int[][][] pairs = {{{144, 1, 384}, {384}}, {{384}, {144, 1, 384}}, {{4, 100}, {}}, {{6, 7}, {6, 7}}};
        for (int[][] p : pairs) {
            for (String op : List.of("Add", "Sub", "Mul", "Div")) {
                for (int reusable = 0; reusable < 2; reusable++) {
                    Tensor a = random(p[0]);
                    Tensor b = random(p[1]);
                    float[] expected = run(op, Map.of(), a, b).floats();
                    float[] reusedData = (reusable == 0 ? a : b).floats();
                    Node node = new Node("n", op, "", List.of("a", "b"), List.of("y"), Map.of());
                    Tensor y = FloatKernels.create(node, 17).runReusing(new Tensor[] {a, b}, reusable)[0];
                    String what = op + " into operand " + reusable + " of " + Arrays.toString(p[0]) + ", "
                            + Arrays.toString(p[1]);
                    assertArrayEquals(expected, y.floats(), 0f, what);
                    // The operand of the result's shape lends its data; a broadcast one does not.
                    boolean fits = Arrays.equals((reusable == 0 ? a : b).shape(), y.shape());
                    assertEquals(fits, y.floats() == reusedData, what);
                }
            }
        }
    }

    @Test
    void gemmBiasRowAndFullBias() {
        Tensor a = random(20, 16);
        Tensor b = random(24, 16);
        for (int[] cShape : new int[][] {{24}, {1, 24}, {20, 24}, {20, 1}, {1}}) {
            Tensor c = random(cShape);
            Tensor y = run(
                    "Gemm",
                    Map.of(
                            "transB",
                            Attribute.ofInt(1),
                            "alpha",
                            Attribute.ofFloat(0.5f),
                            "beta",
                            Attribute.ofFloat(2f)),
                    a,
                    b,
                    c);
            Tensor noBias = run("Gemm", Map.of("transB", Attribute.ofInt(1), "alpha", Attribute.ofFloat(0.5f)), a, b);
            float[] expected = reference(noBias, c, (p, q) -> p + 2f * q);
            assertArrayEquals(expected, y.floats(), 0f, "C " + Arrays.toString(cShape));
        }
    }

    @Test
    void layerNormalizationWithVectorAndBroadcastScale() {
        Tensor x = random(5, 7, 32);
        float eps = 1e-5f;
        // [32]: read directly; [1]: through the broadcast map; axis -2: scale [7, 32] directly,
        // bias [7, 1] through the map.
        Object[][] cases = {
            {-1, random(32), random(32)},
            {-1, random(32), null},
            {-1, random(1), random(1)},
            {-2, random(7, 32), random(7, 32)},
            {-2, random(7, 32), random(7, 1)},
        };
        for (Object[] c : cases) {
            int axis = (int) c[0];
            Tensor scale = (Tensor) c[1];
            Tensor bias = (Tensor) c[2];
            Tensor y = bias == null
                    ? run("LayerNormalization", Map.of("axis", Attribute.ofInt(axis)), x, scale)
                    : run("LayerNormalization", Map.of("axis", Attribute.ofInt(axis)), x, scale, bias);
            int a = axis < 0 ? axis + 3 : axis;
            int[] norm = Arrays.copyOfRange(x.shape(), a, 3);
            int len = Math.toIntExact(Shapes.size(norm));
            int[] si = IndexMaps.broadcast(scale.shape(), norm);
            int[] bi = bias == null ? null : IndexMaps.broadcast(bias.shape(), norm);
            float[] xs = x.floats();
            float[] expected = new float[xs.length];
            for (int g = 0; g < xs.length / len; g++) {
                double sum = 0;
                for (int i = 0; i < len; i++) {
                    sum += xs[g * len + i];
                }
                double mean = sum / len;
                double sq = 0;
                for (int i = 0; i < len; i++) {
                    double d = xs[g * len + i] - mean;
                    sq += d * d;
                }
                float m = (float) mean;
                float sdev = (float) Math.sqrt(sq / len + eps);
                for (int i = 0; i < len; i++) {
                    float b = bias == null ? 0f : bias.floats()[bi[i]];
                    expected[g * len + i] = (xs[g * len + i] - m) / sdev * scale.floats()[si[i]] + b;
                }
            }
            assertArrayEquals(expected, y.floats(), 0f, "axis " + axis + " scale " + Arrays.toString(scale.shape()));
        }
    }

    @Test
    void batchedMatMulOnePerHeadAndBroadcastB() {
        int[][][] shapes = {
            {{4, 144, 32}, {4, 32, 144}}, // a task per head
            {{4, 144, 144}, {4, 144, 32}},
            {{4, 30, 8}, {4, 8, 30}}, // too small to split
            {{2, 3, 20, 9}, {9, 11}}, // one B for all: one product
        };
        for (int[][] s : shapes) {
            Tensor a = random(s[0]);
            Tensor b = random(s[1]);
            Tensor y = run("MatMul", Map.of(), a, b);
            int m = s[0][s[0].length - 2];
            int k = s[0][s[0].length - 1];
            int n = s[1][s[1].length - 1];
            int batches = a.size() / (m * k);
            boolean sharedB = s[1].length == 2;
            float[] expected = new float[batches * m * n];
            for (int bi = 0; bi < batches; bi++) {
                int bOff = sharedB ? 0 : bi * k * n;
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        float acc = 0f;
                        for (int kk = 0; kk < k; kk++) {
                            acc = acc + a.floats()[bi * m * k + i * k + kk] * b.floats()[bOff + kk * n + j];
                        }
                        expected[bi * m * n + i * n + j] = acc;
                    }
                }
            }
            assertEquals(expected.length, y.size());
            assertArrayEquals(expected, y.floats(), 0f, Arrays.toString(s[0]) + " x " + Arrays.toString(s[1]));
        }
    }
}
