package dev.layerprobe.simulator.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
