package dev.layerprobe.host.input;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.ValueInfo;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SeededInputsTest {
    private static final List<ValueInfo> INPUTS = List.of(
            new ValueInfo("image", DType.FLOAT32, new int[] {-1, 3, -1, -1}),
            new ValueInfo("tokens", DType.INT64, new int[] {-1, 7}),
            new ValueInfo("scalar", DType.FLOAT32, new int[] {}));

    @Test
    void everyInputGetsItsShapeAndTypeRepeatably() throws Exception {
        Map<String, int[]> given = Map.of("image", new int[] {1, 3, 48, 192});
        Map<String, Tensor> a = SeededInputs.of(INPUTS, given, 42);
        Map<String, Tensor> b = SeededInputs.of(INPUTS, given, 42);
        assertEquals(List.of("image", "tokens", "scalar"), List.copyOf(a.keySet()));
        assertArrayEquals(new int[] {1, 3, 48, 192}, a.get("image").shape());
        assertArrayEquals(new int[] {1, 7}, a.get("tokens").shape(), "a dynamic batch is 1");
        assertArrayEquals(new int[] {}, a.get("scalar").shape());
        assertEquals(DType.INT64, a.get("tokens").dtype());
        assertArrayEquals(a.get("image").floats(), b.get("image").floats());
        assertArrayEquals(a.get("tokens").longs(), b.get("tokens").longs());
        for (float v : a.get("image").floats()) {
            assertTrue(v >= -1f && v < 1f, "float inputs lie in [-1, 1): " + v);
        }
        for (long v : a.get("tokens").longs()) {
            assertTrue(v >= 0 && v < 8, "integer inputs lie in [0, 8): " + v);
        }
        // Inputs are drawn from seed + index, so another seed changes them and inputs differ from each other.
        assertFalse(java.util.Arrays.equals(
                a.get("image").floats(),
                SeededInputs.of(INPUTS, given, 43).get("image").floats()));
    }

    @Test
    void dynamicDimensionsWithoutAShapeAndUnknownNamesAreNamed() {
        InputException missing = assertThrows(InputException.class, () -> SeededInputs.of(INPUTS, Map.of(), 1));
        assertTrue(
                missing.getMessage().contains("'image'")
                        && missing.getMessage().contains("1x3x?x?")
                        && missing.getMessage().contains("--input-shape image=DIMS"),
                missing.getMessage());
        InputException unknown = assertThrows(
                InputException.class,
                () -> SeededInputs.of(INPUTS, Map.of("image", new int[] {1, 3, 8, 8}, "imgae", new int[] {1}), 1));
        assertTrue(
                unknown.getMessage().contains("'imgae'") && unknown.getMessage().contains("[image, tokens, scalar]"),
                unknown.getMessage());
    }

    @Test
    void aDynamicSharedModelRunsOnItsSeededInputs() throws Exception {
        var model = SharedData.require("models/ppocr_cls.onnx");
        List<ValueInfo> inputs =
                Simulator.compile(model, CompileOptions.DEFAULT).inputs();
        Map<String, int[]> shapes = SeededInputs.shapes(inputs, InputShapes.parse(List.of("x=1x3x48x192")));
        NpuProgram p = Simulator.compile(model, CompileOptions.DEFAULT.withInputShapes(shapes));
        var out = p.run(SeededInputs.of(inputs, shapes, 42), LayerObserver.NONE);
        assertArrayEquals(new int[] {1, 2}, out.get(p.outputs().get(0)).shape());
    }
}
