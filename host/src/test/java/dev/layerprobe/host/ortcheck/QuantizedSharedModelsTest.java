package dev.layerprobe.host.ortcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.OrtInt8;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.host.quantize.QuantizationOptions;
import dev.layerprobe.host.quantize.Quantizer;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.RequantMode;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.CalibrationAlgorithm;
import dev.layerprobe.simulator.quant.LayerPrecision;
import java.io.PrintWriter;
import java.io.StringWriter;
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
 * Every shared model that {@code quantize} accepts, quantized the way {@code quantize} does it
 * ({@link Quantizer}: minmax calibration, per-channel weights, the model's own preprocessing): the
 * file passes {@link OnnxChecker}, ONNX Runtime loads it, and the simulator in {@code requant:
 * float} mode gives the final codes ONNX Runtime gives (at least 99.9% equal, at most 1 LSB apart),
 * on the first calibration inputs (four; all 64 for tiny_transformer, whose output is 10 logits) and
 * the seven photos. ppocr_cls is opset 9: its file is raised to opset 11 with per-channel weights in
 * {@code com.microsoft} DequantizeLinear.
 *
 * <p>tiny_transformer is the model where ORT runs most in float: LayerNormalization, MatMul by its
 * float weights, Erf, Div and ReduceMean between DequantizeLinear and QuantizeLinear, next to
 * QLinearMatMul and QLinearSoftmax for attention. Each of these computed another way (a float
 * MatMul or LayerNormalization in another order, a QLinearMatMul in float, QLinearSoftmax's table
 * with a double logarithm) was one code off on one value in 70,000 to 230,000, and the
 * LayerNormalizations spread that to a tenth of the logits (measured before the simulator
 * reproduced those kernels: 639 of 710 equal); so this model checks them end to end.
 */
class QuantizedSharedModelsTest {
    private static final int EVAL_CALIBRATION_INPUTS = 4;
    private static final InputSpec PADDLE = new InputSpec(new float[] {0.5f}, new float[] {0.5f}, true, 1f / 255f);

    /** The QDQ file and its inputs: the model quantized as {@code quantize} would. */
    record Quantized(ModelProto floatModel, ModelProto qdq, List<Map<String, Tensor>> inputs) {}

    static Quantized quantize(
            String model, String calib, int calibCount, String preprocessing, int[] shape, LayerPrecision precision)
            throws Exception {
        return quantize(model, calib, calibCount, preprocessing, shape, precision, EVAL_CALIBRATION_INPUTS);
    }

    /**
     * @param evalCalibration how many images of the calibration directory (in name order, those
     *                        calibrated on first) to evaluate on, besides the photos
     */
    static Quantized quantize(
            String model,
            String calib,
            int calibCount,
            String preprocessing,
            int[] shape,
            LayerPrecision precision,
            int evalCalibration)
            throws Exception {
        Path file = SharedData.require("models/" + model + ".onnx");
        Path calibDir = SharedData.require("images/" + calib);
        Path photos = SharedData.require("images/photos");
        InputSpec spec = preprocessing.equals("paddle") ? PADDLE : InputSpec.IMAGENET;
        ModelProto floatModel = OnnxGraphs.readModel(file);
        NpuProgram fp = Simulator.compile(file, CompileOptions.DEFAULT);
        String input = fp.inputs().get(0).name();
        if (shape != null) {
            fp = Simulator.compile(file, CompileOptions.DEFAULT.withInputShapes(Map.of(input, shape)));
        }
        int[] s = fp.inputs().get(0).shape();
        List<Path> calibFiles;
        try (Stream<Path> l = Files.list(calibDir)) {
            calibFiles = l.sorted().toList();
        }
        List<Path> files = calibFiles.subList(0, Math.min(calibCount, calibFiles.size()));
        QuantizationOptions q =
                new QuantizationOptions(precision, true, CalibrationAlgorithm.MINMAX, 99.99, null, null);
        Quantizer quantizer = new Quantizer(new PrintWriter(new StringWriter()));
        Calibration c = quantizer.calibrate(fp, floatModel.toByteArray(), files, spec, q);
        ModelProto qdq = quantizer.quantize(fp, c, q);
        List<Map<String, Tensor>> inputs = new ArrayList<>();
        for (Path p : calibFiles.subList(0, Math.min(evalCalibration, calibFiles.size()))) {
            inputs.add(Map.of(input, InputLoader.load(p, s, spec)));
        }
        try (Stream<Path> l = Files.list(photos)) {
            for (Path p : l.sorted().toList()) {
                inputs.add(Map.of(input, InputLoader.load(p, s, spec)));
            }
        }
        return new Quantized(floatModel, qdq, inputs);
    }

    @ParameterizedTest
    @CsvSource({
        "mobilenet_v2, calib224, 8, imagenet, INT8, 4",
        "mobilepose_like, calib224, 8, imagenet, INT8, 4",
        "espcn_x3, calib224, 8, imagenet, INT8, 4",
        "tiny_transformer, calib224, 8, imagenet, INT8, 64",
        "tiny_transformer, calib224, 8, imagenet, UINT8, 64",
        "ppocr_cls, text, 12, paddle, INT8, 4",
        "ppocr_cls, text, 12, paddle, UINT8, 4"
    })
    void quantizedFileIsValidAndAgreesWithOnnxRuntime(
            String model, String calib, int count, String preprocessing, LayerPrecision precision, int evalCalibration)
            throws Exception {
        int[] shape = model.equals("ppocr_cls") ? new int[] {1, 3, 48, 192} : null;
        Quantized m = quantize(model, calib, count, preprocessing, shape, precision, evalCalibration);
        OnnxChecker.assertValid(m.qdq(), model);
        Quantizer.WrittenWeights w = Quantizer.WrittenWeights.of(m.qdq());
        System.out.printf("%s %s: weights %s, ORT ops %s%n", model, precision, w, OrtCheck.ortOps(m.qdq()));
        assertEquals(0, w.perTensor(), model + ": every weight per channel: " + w);
        assertTrue(w.perChannel() > 0, model + ": " + w);
        if (model.equals("ppocr_cls")) {
            assertEquals(11, w.opset(), "opset 9 is raised to 11");
            assertEquals(w.perChannel(), w.contribPerChannel(), "per-axis DequantizeLinear below opset 13: " + w);
            assertEquals(53, w.perChannel(), "every Conv of ppocr_cls: " + w);
        }
        OrtInt8.assumeExactKernels();
        OrtCheck.Agreement a = OrtCheck.compare(m.qdq(), m.inputs());
        System.out.printf(
                "ORT vs simulator (requant: float), %s, %s, %d inputs: %s%n",
                model, precision, m.inputs().size(), a);
        assertTrue(a.fraction() >= 0.999, model + " " + precision + ": " + a);
        assertTrue(a.maxDiff() <= 1, model + " " + precision + ": " + a);
    }

    /**
     * int16 layers keep biases that do not fit int32 in float, and ONNX Runtime's optimizer
     * quantizes those with Round, an opset-11 op, whatever the model's opset: written at opset 10,
     * the opset-9 ppocr_cls's int16 file did not load; at opset 11 a per-channel float bias made it
     * insert a DequantizeLinear with an axis, which ONNX has from 13.
     */
    @Test
    void theInt16FileOfAnOpset9ModelLoadsInOnnxRuntime() throws Exception {
        Quantized m = quantize("ppocr_cls", "text", 4, "paddle", new int[] {1, 3, 48, 192}, LayerPrecision.INT16);
        OnnxChecker.assertValid(m.qdq(), "ppocr_cls int16");
        Map<String, float[]> out = OrtCheck.runOrt(m.qdq(), m.inputs().get(0));
        assertEquals(2, out.get("softmax_0.tmp_0").length);
        // ORT has no int16 kernels: it runs these layers in float between DequantizeLinear and
        // QuantizeLinear, so its codes are near the simulator's, not equal (measured: at most 9 of
        // 32767 apart).
        OrtCheck.Agreement a = OrtCheck.compare(m.qdq(), m.inputs());
        System.out.println("int16 ppocr_cls: " + a);
        assertTrue(a.maxDiff() <= 16, a.toString());
    }

    /**
     * gru_kws (Conv1d + Relu, two GRU layers, Gemm) quantized as {@code quantize} does it: the file
     * is valid, ONNX Runtime runs it with the GRU nodes in float between DequantizeLinear and
     * QuantizeLinear as the simulator's CPU layers do, and the simulator in {@code requant: float}
     * mode gives ONNX Runtime's logit codes.
     */
    @Test
    void gruKeywordSpotterQuantizesWithItsRecurrentLayersInFloat() throws Exception {
        Path file = SharedData.require("models/gru_kws.onnx");
        Path mfcc = SharedData.require("images/mfcc");
        ModelProto floatModel = OnnxGraphs.readModel(file);
        NpuProgram fp = Simulator.compile(file, CompileOptions.DEFAULT);
        List<Path> files;
        try (Stream<Path> l = Files.list(mfcc)) {
            files = l.sorted().toList();
        }
        QuantizationOptions q =
                new QuantizationOptions(LayerPrecision.INT8, true, CalibrationAlgorithm.MINMAX, 99.99, null, null);
        Quantizer quantizer = new Quantizer(new PrintWriter(new StringWriter()));
        Calibration c = quantizer.calibrate(fp, floatModel.toByteArray(), files.subList(0, 8), InputSpec.IMAGENET, q);
        ModelProto qdq = quantizer.quantize(fp, c, q);
        OnnxChecker.assertValid(qdq, "gru_kws");
        Map<String, Integer> ortOps = OrtCheck.ortOps(qdq);
        System.out.printf("gru_kws INT8: ORT ops %s%n", ortOps);
        assertTrue(ortOps.containsKey("GRU"), "ONNX Runtime runs GRU in float: " + ortOps);
        // Under requant: float, the mode of the cross-check; the default profile runs them on the NPU.
        NpuProgram sim = Simulator.compile(
                qdq, "gru_kws", CompileOptions.of(DeviceProfile.DEFAULT.withRequant(RequantMode.FLOAT)));
        assertTrue(
                sim.layers().stream()
                        .filter(l -> l.op().equals("GRU"))
                        .allMatch(l ->
                                l.placement() == Placement.CPU && l.outputs().size() == 2),
                "GRU layers on the CPU with Y and Y_h");
        List<Map<String, Tensor>> inputs = new ArrayList<>();
        for (Path p : files) {
            inputs.add(Map.of("mfcc", InputLoader.load(p, new int[] {1, 40, 49}, InputSpec.IMAGENET)));
        }
        OrtInt8.assumeExactKernels();
        OrtCheck.Agreement a = OrtCheck.compare(qdq, inputs);
        System.out.printf("ORT vs simulator (requant: float), gru_kws, INT8, %d inputs: %s%n", inputs.size(), a);
        assertTrue(a.fraction() >= 0.99, a.toString());
        assertTrue(a.maxDiff() <= 1, a.toString());
    }
}
