package dev.layerprobe.simulator.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The array Tanh and Sigmoid give, bit for bit, the float32 rounding of {@code Math.tanh} and of
 * {@code 1 / (1 + Math.exp(-x))} in double, over normal-sized, tiny, huge and arbitrary bit
 * patterns and the special values, in place and into another array.
 */
class TanhSigmoidTest {
    @Test
    void matchesTheDoubleLibraryFunctionsRoundedOnce() {
        Random random = new Random(7);
        int n = 1 << 18;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (i % 4) {
                case 0 -> (float) random.nextGaussian() * 3;
                case 1 -> (float) (random.nextGaussian() * 1e-4);
                case 2 -> Float.intBitsToFloat(random.nextInt());
                default -> (float) random.nextGaussian() * 30;
            };
        }
        float[] special = {
            0f,
            -0f,
            Float.NaN,
            Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY,
            Float.MIN_VALUE,
            -Float.MIN_VALUE,
            Float.MAX_VALUE,
            -Float.MAX_VALUE,
            1e-30f,
            9.5f,
            -9.5f,
            20f,
            89f,
            -104f,
            700f
        };
        System.arraycopy(special, 0, x, 0, special.length);
        float[] tanh = new float[n];
        float[] sigmoid = x.clone();
        TanhSigmoid.tanh(x, tanh, n);
        TanhSigmoid.sigmoid(sigmoid, sigmoid, n);
        for (int i = 0; i < n; i++) {
            assertEquals(
                    Float.floatToIntBits((float) Math.tanh(x[i])), Float.floatToIntBits(tanh[i]), "tanh(" + x[i] + ")");
            assertEquals(
                    Float.floatToIntBits((float) (1.0 / (1.0 + Math.exp(-(double) x[i])))),
                    Float.floatToIntBits(sigmoid[i]),
                    "sigmoid(" + x[i] + ")");
        }
    }

    @Test
    void vectorFormComputesTheLoopsValues() {
        // Surefire passes --add-modules jdk.incubator.vector, as the launchers do.
        assertTrue(TanhSigmoid.vectorised(), "VectorTanhSigmoid did not load: is src/main/vector compiled?");
        Random random = new Random(8);
        for (int trial = 0; trial < 200; trial++) {
            int len = random.nextInt(100);
            int off = random.nextInt(9);
            float[] x = new float[off + len];
            for (int i = 0; i < x.length; i++) {
                x[i] = switch (random.nextInt(6)) {
                    case 0 -> (float) random.nextGaussian() * 3;
                    case 1 -> (float) (random.nextGaussian() * 1e-6);
                    case 2 -> Float.intBitsToFloat(random.nextInt());
                    case 3 -> random.nextBoolean() ? 0f : -0f;
                    case 4 -> (float) random.nextGaussian() * 800;
                    default -> (float) random.nextGaussian() * 20;
                };
            }
            for (boolean tanh : new boolean[] {true, false}) {
                float[] want = new float[off + len];
                float[] got = new float[off + len];
                TanhSigmoid.loops(x, off, want, off, len, tanh);
                TanhSigmoid.apply(x, off, got, off, len, tanh);
                for (int i = off; i < off + len; i++) {
                    // Bits, NaN as one value (the vector form does not keep a NaN's payload).
                    assertEquals(
                            Float.floatToIntBits(want[i]),
                            Float.floatToIntBits(got[i]),
                            (tanh ? "tanh(" : "sigmoid(") + x[i] + "), trial " + trial);
                }
            }
        }
    }
}
