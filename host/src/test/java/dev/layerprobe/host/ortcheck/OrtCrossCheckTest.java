package dev.layerprobe.host.ortcheck;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.tensor.DType;
import dev.layerprobe.simulator.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Whole models: the QDQ file of a shared model (per-channel int8 weights, minmax calibration on 8
 * images of calib224) run by ONNX Runtime (graph optimizations ALL) and by the simulator in
 * {@code requant: float} mode; the final output's integer codes are compared on the astronaut photo.
 * The bar: ≥ 99.9 % equal codes and never more than 1 LSB apart.
 */
class OrtCrossCheckTest {
    private static final int CALIBRATION_IMAGES = 8;

    static OrtCheck.Agreement measure(String model, DType activations) throws Exception {
        Path file = SharedData.require("models/" + model + ".onnx");
        Path calibDir = SharedData.require("images/calib224");
        Path photo = SharedData.require("images/photos/astronaut.png");
        NpuProgram fp = Simulator.compile(file, CompileOptions.DEFAULT);
        String input = fp.inputs().get(0).name();
        int[] shape = fp.inputs().get(0).shape();
        List<Map<String, Tensor>> calib = new ArrayList<>();
        try (Stream<Path> s = Files.list(calibDir)) {
            for (Path p : s.sorted().limit(CALIBRATION_IMAGES).toList()) {
                calib.add(Map.of(input, InputLoader.load(p, shape, InputSpec.IMAGENET)));
            }
        }
        ModelProto qdq = OrtCheck.qdq(fp, calib, activations);
        OrtCheck.Agreement a = OrtCheck.compare(qdq,
                List.of(Map.of(input, InputLoader.load(photo, shape, InputSpec.IMAGENET))));
        System.out.printf("ORT vs simulator (requant: float), %s, %s activations: %s%n  ORT ops: %s%n", model,
                activations, a, a.ortOps());
        return a;
    }

    /**
     * The bar, for every shared model and both activation types: final output codes equal
     * on at least 99.9% of elements and never more than 1 LSB apart (today all are bit-exact).
     */
    @ParameterizedTest
    @CsvSource({"mobilenet_v2, INT8", "mobilenet_v2, UINT8", "mobilepose_like, INT8", "mobilepose_like, UINT8",
            "espcn_x3, INT8", "espcn_x3, UINT8"})
    void finalCodesAgreeWithOnnxRuntime(String model, DType activations) throws Exception {
        OrtCheck.Agreement a = measure(model, activations);
        assertTrue(a.fraction() >= 0.999, model + " " + activations + ": " + a);
        assertTrue(a.maxDiff() <= 1, model + " " + activations + ": " + a);
    }
}
