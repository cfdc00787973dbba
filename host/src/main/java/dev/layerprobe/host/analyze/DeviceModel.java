package dev.layerprobe.host.analyze;

import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.quantize.Quantizer;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.LayerPrecision;
import dev.layerprobe.simulator.quant.SmoothQuant;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The model an analysis uploads to the device and runs on the host simulator, made by
 * {@link #prepare}: the user's QDQ file ({@code --quantized}), the float model calibrated and
 * quantized here, or for a float run the compiled float graph (shapes folded at the input size, so
 * device and host run the same layers). The file is written into the report folder. Immutable.
 *
 * @param model the model sent to the device
 * @param bytes {@code model} serialized, as written and uploaded (not to be modified)
 * @param file where {@code model} was written
 * @param sim the host simulator's program of {@code model}: the profile's numerics, never its faults
 * @param calibration the calibration made here, or null (a float run, or a QDQ file from elsewhere)
 * @param hostProfile the profile {@code sim} was compiled with: the device's, without its faults
 * @param goldenDivisors per tensor, the per-channel factors (last axis) SmoothQuant divided it by in
 *     the device's model; golden's values of these tensors are divided by them before comparing
 */
record DeviceModel(
        ModelProto model,
        byte[] bytes,
        Path file,
        NpuProgram sim,
        Calibration calibration,
        DeviceProfile hostProfile,
        Map<String, float[]> goldenDivisors) {

    /**
     * Makes the device's model, writes it and compiles it for the host simulator. Checks the
     * device profile's faults against the model's layers, so that a misspelt layer is reported as
     * the user's input error rather than as a failure of the device.
     *
     * @param floatProgram the float model compiled at the analysis' input size
     * @param out where quantization reports what it did
     */
    static DeviceModel prepare(
            AnalysisOptions o,
            PrintWriter out,
            ModelProto floatModel,
            NpuProgram floatProgram,
            String modelName,
            DeviceProfile localProfile)
            throws SimulatorException, InputException, IOException {
        ModelProto deviceModel;
        Path deviceModelFile;
        NpuProgram sim;
        Calibration calibration = null;
        Map<String, float[]> goldenDivisors = Map.of();
        DeviceProfile hostProfile = localProfile.withoutFaults();
        boolean unquantized = o.quantized() == null && o.quant().precision() == LayerPrecision.FLOAT32;
        if (unquantized) {
            deviceModel = OnnxGraphs.toModel(floatProgram.graph(), "layerprobe", Map.of());
            deviceModelFile = o.reportDir().resolve(stripOnnx(modelName) + ".float.onnx");
            sim = floatProgram;
        } else {
            if (o.quantized() != null) {
                deviceModel = OnnxGraphs.readModel(o.quantized());
                out.println("quantized model: " + o.quantized());
            } else {
                Quantizer quantizer = new Quantizer(out);
                List<Path> calibFiles = o.calib() == null ? o.inputs() : Quantizer.listInputs(o.calib());
                SmoothQuant.Result smoothed =
                        quantizer.smooth(floatProgram, modelName, calibFiles, o.spec(), o.quant());
                NpuProgram start = smoothed.program();
                goldenDivisors = smoothed.divisors();
                calibration = quantizer.calibrate(start, floatModel.toByteArray(), calibFiles, o.spec(), o.quant());
                deviceModel = quantizer.quantize(start, calibration, o.quant());
                quantizer.noteUncalibratedBranches(start, calibration);
                out.println("quantized: " + o.quant().describe());
            }
            deviceModelFile = o.reportDir().resolve(stripOnnx(modelName) + ".qdq.onnx");
            sim = Simulator.compile(
                    deviceModel, deviceModelFile.getFileName().toString(), CompileOptions.of(hostProfile));
        }
        byte[] bytes = deviceModel.toByteArray();
        Files.write(deviceModelFile, bytes);
        if (!localProfile.faults().isEmpty()) {
            Simulator.compile(deviceModel, deviceModelFile.getFileName().toString(), CompileOptions.of(localProfile));
        }
        return new DeviceModel(deviceModel, bytes, deviceModelFile, sim, calibration, hostProfile, goldenDivisors);
    }

    /** A model file's name without its {@code .onnx} extension, to name the files derived from it. */
    static String stripOnnx(String name) {
        return name.endsWith(".onnx") ? name.substring(0, name.length() - 5) : name;
    }
}
