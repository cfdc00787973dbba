package dev.layerprobe.host.ortcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.OrtInt8;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.quant.QuantConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
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
        OrtCheck.Agreement a =
                OrtCheck.compare(qdq, List.of(Map.of(input, InputLoader.load(photo, shape, InputSpec.IMAGENET))));
        System.out.printf(
                "ORT vs simulator (requant: float), %s, %s activations: %s%n  ORT ops: %s%n",
                model, activations, a, a.ortOps());
        return a;
    }

    /**
     * fp16 (Cast pairs, FLOAT16 weights): ONNX Runtime computes the same file in float32 between the
     * casts, which is the simulator's fp16 arithmetic up to float32 summation order. The two must
     * agree with each other far better than either agrees with the float model; on mobilepose_like
     * both land near cos 0.995 against golden, which is the format's own error amplified by the network.
     */
    @Test
    void fp16AgreesWithOnnxRuntimeOnTheSameFile() throws Exception {
        Path file = SharedData.require("models/mobilepose_like.onnx");
        Path photo = SharedData.require("images/photos/astronaut.png");
        NpuProgram fp = Simulator.compile(file, CompileOptions.DEFAULT);
        String input = fp.inputs().get(0).name();
        Map<String, Tensor> feed =
                Map.of(input, InputLoader.load(photo, fp.inputs().get(0).shape(), InputSpec.IMAGENET));
        ModelProto qdq = QdqWriter.write(fp, Calibration.collect(fp, List.of(feed), n -> {}), QuantConfig.FP16);
        String out = fp.outputs().get(0);
        float[] golden = OrtCheck.runOrt(OnnxGraphs.readModel(file), feed).get(out);
        float[] ort = OrtCheck.runOrt(qdq, feed).get(out);
        float[] sim = Simulator.compile(qdq, "fp16", CompileOptions.DEFAULT)
                .run(feed, LayerObserver.NONE)
                .get(out)
                .real()
                .floats();
        double simOrt = cos(sim, ort);
        double simGolden = cos(sim, golden);
        double ortGolden = cos(ort, golden);
        System.out.printf(
                "fp16 mobilepose_like: cos(sim, ORT) %.7f, cos(sim, golden) %.6f, cos(ORT, golden) %.6f%n",
                simOrt, simGolden, ortGolden);
        assertTrue(1 - simOrt < (1 - simGolden) / 10, "simulator and ORT differ as much as fp16 differs from float");
        assertEquals(ortGolden, simGolden, 0.001);
    }

    static double cos(float[] a, float[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    /**
     * The bar, for every shared model and both activation types: final output codes equal
     * on at least 99.9% of elements and never more than 1 LSB apart (today all are bit-exact).
     */
    @ParameterizedTest
    @CsvSource({
        "mobilenet_v2, INT8",
        "mobilenet_v2, UINT8",
        "mobilepose_like, INT8",
        "mobilepose_like, UINT8",
        "espcn_x3, INT8",
        "espcn_x3, UINT8"
    })
    void finalCodesAgreeWithOnnxRuntime(String model, DType activations) throws Exception {
        OrtInt8.assumeExactKernels();
        OrtCheck.Agreement a = measure(model, activations);
        assertTrue(a.fraction() >= 0.999, model + " " + activations + ": " + a);
        assertTrue(a.maxDiff() <= 1, model + " " + activations + ": " + a);
    }
}
