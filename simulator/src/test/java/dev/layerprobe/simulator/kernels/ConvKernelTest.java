package dev.layerprobe.simulator.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Node;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hand-checked Conv cases: groups, dilation, asymmetric and automatic padding, 1-D. */
class ConvKernelTest {

    private static Tensor run(Map<String, Attribute> attrs, Tensor... inputs) {
        Node node = new Node("conv", "Conv", "", List.of("x", "w", "b").subList(0, inputs.length), List.of("y"), attrs);
        return FloatKernels.create(node, 13).run(inputs)[0];
    }

    private static Tensor t(int[] shape, float... v) {
        return Tensor.ofFloats(shape, v);
    }

    private static void assertTensor(int[] shape, float[] expected, Tensor actual) {
        assertArrayEquals(shape, actual.shape());
        assertArrayEquals(expected, actual.floats(), 0f);
    }

    @Test
    void groupedPointwiseWithBias() {
        float[] x = new float[36];
        for (int c = 0; c < 4; c++) {
            java.util.Arrays.fill(x, c * 9, c * 9 + 9, c + 1);
        }
        // Group 0 mixes channels 0,1 (values 1, 2); group 1 mixes channels 2,3 (values 3, 4).
        Tensor y = run(
                Map.of("group", Attribute.ofInt(2)),
                t(new int[] {1, 4, 3, 3}, x),
                t(new int[] {2, 2, 1, 1}, 1, 10, 100, 1000),
                t(new int[] {2}, 0.5f, -0.5f));
        float[] expected = new float[18];
        java.util.Arrays.fill(expected, 0, 9, 21.5f);
        java.util.Arrays.fill(expected, 9, 18, 4299.5f);
        assertTensor(new int[] {1, 2, 3, 3}, expected, y);
    }

    @Test
    void depthwise2x2() {
        Tensor y = run(
                Map.of("group", Attribute.ofInt(2)),
                t(new int[] {1, 2, 2, 2}, 1, 2, 3, 4, 5, 6, 7, 8),
                t(new int[] {2, 1, 2, 2}, 1, 0, 0, 1, 0, 1, 1, 0));
        assertTensor(new int[] {1, 2, 1, 1}, new float[] {5, 13}, y);
    }

    @Test
    void dilation() {
        float[] x = new float[25];
        for (int i = 0; i < 25; i++) {
            x[i] = i;
        }
        // Taps at (0,0), (0,2), (2,0), (2,2): sum = 4 * x[i][j] + 24.
        Tensor y = run(
                Map.of("dilations", Attribute.ofInts(2, 2)),
                t(new int[] {1, 1, 5, 5}, x),
                t(new int[] {1, 1, 2, 2}, 1, 1, 1, 1));
        float[] expected = new float[9];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                expected[i * 3 + j] = 4 * (5 * i + j) + 24;
            }
        }
        assertTensor(new int[] {1, 1, 3, 3}, expected, y);
    }

    @Test
    void asymmetricPads() {
        // pads = [top, left, bottom, right] = [1, 0, 0, 2]
        Tensor y = run(
                Map.of("pads", Attribute.ofInts(1, 0, 0, 2)),
                t(new int[] {1, 1, 2, 2}, 1, 2, 3, 4),
                t(new int[] {1, 1, 1, 1}, 1));
        assertTensor(new int[] {1, 1, 3, 4}, new float[] {0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0}, y);
    }

    @Test
    void sameUpperAndLowerPutTheOddPadAtOppositeEnds() {
        Tensor x = t(new int[] {1, 1, 4, 4}, new float[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
        Tensor w = t(new int[] {1, 1, 3, 3}, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        Tensor upper =
                run(Map.of("auto_pad", Attribute.ofString("SAME_UPPER"), "strides", Attribute.ofInts(2, 2)), x, w);
        Tensor lower =
                run(Map.of("auto_pad", Attribute.ofString("SAME_LOWER"), "strides", Attribute.ofInts(2, 2)), x, w);
        assertTensor(new int[] {1, 1, 2, 2}, new float[] {9, 6, 6, 4}, upper);
        assertTensor(new int[] {1, 1, 2, 2}, new float[] {4, 6, 6, 9}, lower);
    }

    @Test
    void oneDimensional() {
        Tensor y = run(
                Map.of("pads", Attribute.ofInts(1, 1)),
                t(new int[] {1, 1, 5}, 1, 2, 3, 4, 5),
                t(new int[] {1, 1, 3}, 1, 0, -1));
        assertTensor(new int[] {1, 1, 5}, new float[] {-2, -2, -2, -2, 4}, y);
    }

    @Test
    void unknownAutoPadIsRejectedByName() {
        Node node = new Node(
                "conv", "Conv", "", List.of("x", "w"), List.of("y"), Map.of("auto_pad", Attribute.ofString("SAME")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FloatKernels.create(node, 13));
        assertTrue(e.getMessage().contains("auto_pad") && e.getMessage().contains("SAME_UPPER"), e.getMessage());
    }
}
