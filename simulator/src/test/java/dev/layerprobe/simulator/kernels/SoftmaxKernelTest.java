package dev.layerprobe.simulator.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Softmax along the last axis (one exponential per value, {@link DoubleExp}) against the strided
 * path of another axis ({@code Math.exp}, the reference), on the same rows laid out both ways, and
 * {@link DoubleExp} against {@code Math.exp}.
 */
class SoftmaxKernelTest {
    private static Tensor softmax(Tensor x, long axis, int opset) {
        Node node = new Node("s", "Softmax", "", List.of("x"), List.of("y"), Map.of("axis", Attribute.ofInt(axis)));
        return FloatKernels.create(node, opset).run(new Tensor[] {x})[0];
    }

    /** rows x len values: seeded Gaussians of growing spread, and rows with the edge values. */
    private static float[][] rows(int count, int len, long seed) {
        Random random = new Random(seed);
        float[][] rows = new float[count][len];
        for (int r = 0; r < count; r++) {
            double spread = 0.1 + r % 40;
            for (int k = 0; k < len; k++) {
                rows[r][k] = (float) (random.nextGaussian() * spread);
            }
        }
        rows[0][len / 2] = Float.NEGATIVE_INFINITY;
        rows[1][0] = 500f; // the rest lies below the clamp of the exponential's argument
        rows[2] = new float[len]; // all equal
        if (count > 3) {
            rows[3][len - 1] = Float.NaN;
        }
        return rows;
    }

    @Test
    void lastAxisMatchesTheStridedPathToTheBit() {
        int count = 300;
        int len = 144;
        float[][] rows = rows(count, len, 5);
        float[] byRow = new float[count * len];
        float[] byColumn = new float[count * len];
        for (int r = 0; r < count; r++) {
            for (int k = 0; k < len; k++) {
                byRow[r * len + k] = rows[r][k];
                byColumn[k * count + r] = rows[r][k];
            }
        }
        float[] fast =
                softmax(Tensor.ofFloats(new int[] {count, len}, byRow), -1, 13).floats();
        float[] strided = softmax(Tensor.ofFloats(new int[] {len, count}, byColumn), 0, 13)
                .floats();
        int differ = 0;
        for (int r = 0; r < count; r++) {
            for (int k = 0; k < len; k++) {
                float a = fast[r * len + k];
                float b = strided[k * count + r];
                if (Float.isNaN(b)) {
                    assertTrue(Float.isNaN(a), "row " + r + " element " + k + " should be NaN");
                } else if (Float.floatToIntBits(a) != Float.floatToIntBits(b)) {
                    // One ulp of the exponential in double moves a float32 quotient only when it lies
                    // within 1e-16 of a rounding boundary: essentially never, and then by one ulp.
                    assertEquals(b, a, Math.ulp(b), "row " + r + " element " + k);
                    differ++;
                }
            }
        }
        assertTrue(differ <= 2, differ + " of " + count * len + " values differ from the strided path");
        assertEquals(0f, fast[len / 2], "e^-inf");
        assertEquals(1f, fast[len], "a row whose other values are 500 below its maximum");
        assertEquals((float) (1.0 / len), fast[2 * len + 7], 0f, "equal values");
    }

    @Test
    void coercedRowsBeforeOpset13TakeTheSamePath() {
        float[][] rows = rows(6, 24, 9);
        float[] flat = new float[6 * 24];
        for (int r = 0; r < 6; r++) {
            System.arraycopy(rows[r], 0, flat, r * 24, 24);
        }
        // Opset 11, axis 1 of [6, 4, 6]: each row of 24 is one softmax, as axis -1 of [6, 24].
        float[] coerced =
                softmax(Tensor.ofFloats(new int[] {6, 4, 6}, flat), 1, 11).floats();
        float[] last = softmax(Tensor.ofFloats(new int[] {6, 24}, flat), -1, 13).floats();
        assertArrayEquals(last, coerced, 0f);
    }

    @Test
    void doubleExpIsWithinOneUlpOfMathExp() {
        Random random = new Random(3);
        int n = 200_000;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = i % 2 == 0
                    ? DoubleExp.MIN + random.nextDouble() * (DoubleExp.MAX - DoubleExp.MIN)
                    : -random.nextDouble() * 20;
        }
        v[0] = 0;
        v[1] = Double.NaN;
        v[2] = DoubleExp.MIN;
        v[3] = DoubleExp.MAX;
        double[] e = Arrays.copyOf(v, n);
        double sum = DoubleExp.expInPlace(e, new double[n], n);
        double inOrder = 0;
        for (int i = 2; i < 66; i++) {
            inOrder += e[i];
        }
        double[] head = Arrays.copyOfRange(v, 2, 66);
        assertEquals(inOrder, DoubleExp.expInPlace(head, new double[64], 64), 0.0, "the sum, in index order");
        assertTrue(Double.isNaN(sum), "a NaN makes the sum NaN");
        assertEquals(1.0, e[0]);
        assertTrue(Double.isNaN(e[1]));
        int equal = 0;
        for (int i = 2; i < n; i++) {
            double want = Math.exp(v[i]);
            assertEquals(want, e[i], Math.ulp(want), "e^" + v[i]);
            equal += e[i] == want ? 1 : 0;
        }
        assertTrue(equal > n * 0.8, equal + " of " + n + " equal to Math.exp");
    }
}
