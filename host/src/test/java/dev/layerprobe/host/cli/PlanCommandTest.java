package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.host.SharedData;
import org.junit.jupiter.api.Test;

/** {@code layerprobe plan}: the compiled program of a dynamically shaped OCR model. */
class PlanCommandTest {
    @Test
    void planShowsFusedPatternsShapesAndPlacement() {
        String model = SharedData.require("models/ppocr_cls.onnx").toString();
        CliRun r = CliRun.of("plan", model, "--size", "192x48");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("inputs x 1x3x48x192"), r.out());
        assertTrue(
                r.out().contains("HardSwish") && r.out().contains("p2o.Add.0, p2o.Clip.0, p2o.Mul.0, p2o.Div.0"),
                r.out());
        assertTrue(r.out().contains("p2o.Conv.0, p2o.BatchNormalization.0"), "BatchNorm folded into the Conv");
        assertTrue(r.out().contains("1x8x24x96"), "output shapes");
        // Its head's MatMul and Softmax are integer kernels too: every layer is placed on the NPU.
        assertTrue(r.out().contains("111 layers (111 npu, 0 cpu)") && r.out().contains(" npu "), r.out());
    }

    @Test
    void dynamicInputWithoutASizeIsAOneLineError() {
        String model = SharedData.require("models/ppocr_cls.onnx").toString();
        CliRun r = CliRun.of("plan", model);
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("--size"), r.err());
    }
}
