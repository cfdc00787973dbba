package dev.layerprobe.simulator.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Node;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The blocked products give exactly the naive loop's result (same start value, k ascending, one
 * rounding per multiply and per add) for shapes that exercise every path: two-row and one-row
 * passes, k tails of 1 and 2, transposed products, deep products split over several panels,
 * narrowed tiles, offsets, clamping and a missing bias; and Gemm with transB run again on the same
 * weights.
 */
class SgemmTest {
    private static final int[][] SHAPES = {
        // m, k, n
        {1, 1, 1},
        {3, 5, 7},
        {2, 16, 300},
        {5, 17, 1000},
        {96, 16, 12544 / 4},
        {7, 1, 33},
        {960, 160, 49},
        {160, 960, 49},
        {33, 1000, 200},
        {31, 700, 300},
        {250, 2, 100},
        {1280, 320, 49},
        {64, 384, 196},
        {9, 2000, 130},
        {300, 600, 20},
        {200, 3000, 10},
        {1, 1280, 1000},
        {3, 70, 45},
    };

    @Test
    void biasProductMatchesTheNaiveLoopBitForBit() {
        Random random = new Random(7);
        for (int[] s : SHAPES) {
            int m = s[0];
            int k = s[1];
            int n = s[2];
            int aOff = 3;
            int bOff = 5;
            int cOff = 2;
            float[] a = random(random, aOff + m * k);
            float[] b = random(random, bOff + k * n);
            float[] bias = random(random, m + 1);
            for (boolean clamp : new boolean[] {false, true}) {
                for (boolean withBias : new boolean[] {false, true}) {
                    for (boolean parallel : new boolean[] {false, true}) {
                        float[] c = random(random, cOff + m * n + 4);
                        float[] expected = c.clone();
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                float acc = withBias ? bias[1 + i] : 0f;
                                for (int kk = 0; kk < k; kk++) {
                                    acc = acc + a[aOff + i * k + kk] * b[bOff + kk * n + j];
                                }
                                expected[cOff + i * n + j] = clamp ? Math.min(Math.max(acc, -0.5f), 0.75f) : acc;
                            }
                        }
                        Sgemm.biasProduct(
                                a,
                                aOff,
                                k,
                                b,
                                bOff,
                                n,
                                c,
                                cOff,
                                n,
                                m,
                                k,
                                n,
                                withBias ? bias : null,
                                1,
                                clamp,
                                -0.5f,
                                0.75f,
                                null,
                                parallel);
                        assertBits(expected, c, s, "biasProduct");
                        if (Sgemm.transposed(m, n)) {
                            float[] c2 = c.clone();
                            Sgemm.biasProduct(
                                    a,
                                    aOff,
                                    k,
                                    b,
                                    bOff,
                                    n,
                                    c2,
                                    cOff,
                                    n,
                                    m,
                                    k,
                                    n,
                                    withBias ? bias : null,
                                    1,
                                    clamp,
                                    -0.5f,
                                    0.75f,
                                    Sgemm.transpose(a, aOff, k, m, k, parallel),
                                    parallel);
                            assertBits(expected, c2, s, "biasProduct with transposed weights");
                        }
                    }
                }
            }
        }
    }

    @Test
    void multiplyAddMatchesTheNaiveLoopBitForBit() {
        Random random = new Random(11);
        for (int[] s : SHAPES) {
            int m = s[0];
            int k = s[1];
            int n = s[2];
            float[] a = random(random, m * k);
            float[] b = random(random, k * n);
            float[] c = random(random, m * n);
            float[] expected = c.clone();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float acc = expected[i * n + j];
                    for (int kk = 0; kk < k; kk++) {
                        acc = acc + a[i * k + kk] * b[kk * n + j];
                    }
                    expected[i * n + j] = acc;
                }
            }
            Sgemm.multiplyAdd(a, 0, k, b, 0, n, c, 0, n, m, k, n, true);
            assertBits(expected, c, s, "multiplyAdd");
            // B transposed, read through its strides (as Gemm with transB does).
            float[] bt = new float[n * k];
            for (int kk = 0; kk < k; kk++) {
                for (int j = 0; j < n; j++) {
                    bt[j * k + kk] = b[kk * n + j];
                }
            }
            float[] c2 = new float[m * n];
            float[] expected2 = new float[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float acc = 0f;
                    for (int kk = 0; kk < k; kk++) {
                        acc = acc + a[i * k + kk] * b[kk * n + j];
                    }
                    expected2[i * n + j] = acc;
                }
            }
            Sgemm.run(a, 0, k, 1, bt, 0, 1, k, c2, 0, n, 1, m, k, n, true);
            assertBits(expected2, c2, s, "run with strided B");
            // Gemm with transB, run three times on the same B: dot products the first time, then
            // (few rows) B transposed once and kept, read as whole rows.
            Map<String, Attribute> attrs = Map.of("transB", Attribute.ofInt(1));
            FloatKernel gemm =
                    FloatKernels.create(new Node("g", "Gemm", "", List.of("a", "b"), List.of("y"), attrs), 13);
            Tensor[] inputs = {Tensor.ofFloats(new int[] {m, k}, a), Tensor.ofFloats(new int[] {n, k}, bt)};
            for (int run = 0; run < 3; run++) {
                assertBits(expected2, gemm.run(inputs)[0].floats(), s, "Gemm transB, run " + run);
            }
        }
    }

    private static void assertBits(float[] expected, float[] actual, int[] shape, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                assertEquals(
                        expected[i],
                        actual[i],
                        0f,
                        what + " m,k,n=" + shape[0] + "," + shape[1] + "," + shape[2] + " element " + i);
            }
        }
    }

    private static float[] random(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
