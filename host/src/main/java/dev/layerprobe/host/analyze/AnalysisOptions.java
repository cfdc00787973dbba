package dev.layerprobe.host.analyze;

import dev.layerprobe.host.client.AgentEndpoint;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.host.quantize.QuantizationOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What {@link Analysis} runs on.
 *
 * @param model     the float ONNX model
 * @param inputs    input files (images or .npy), at least one
 * @param calib     folder of calibration images, or null to calibrate on the inputs
 * @param devices   running agents to spread the inputs over (each may name several, see
 *                  {@code DeviceFarm}), or empty (or null) for the embedded emulated device
 * @param profile   device profile YAML for the embedded device (and the host simulator's numerics), or null
 * @param reportDir where report.json, report.csv and dumps/ go
 * @param spec      preprocessing of image inputs
 * @param warnCos   cosine below which a layer is a warning
 * @param wrongCos  cosine below which a layer is wrong
 * @param atol      allclose absolute tolerance
 * @param rtol      allclose relative tolerance
 * @param quant     how to quantize (its precision FLOAT32 runs everything unquantized)
 * @param quantized a QDQ model to use instead of quantizing, or null
 * @param inputShapes concrete shapes for dynamic inputs, by input name (may be empty)
 * @param size      {height, width} for image inputs with dynamic spatial size, or null
 * @param bisect    localize a runtime fault by running prefix models on the device even when it
 *                  dumps every layer (a device that reports only its outputs is bisected anyway)
 */
public record AnalysisOptions(
        Path model,
        List<Path> inputs,
        Path calib,
        List<AgentEndpoint> devices,
        Path profile,
        Path reportDir,
        InputSpec spec,
        double warnCos,
        double wrongCos,
        double atol,
        double rtol,
        QuantizationOptions quant,
        Path quantized,
        Map<String, int[]> inputShapes,
        int[] size,
        boolean bisect) {
    public AnalysisOptions {
        inputs = List.copyOf(inputs);
        devices = devices == null ? List.of() : List.copyOf(devices);
        inputShapes = Map.copyOf(inputShapes);
    }

    /** Options with the defaults for everything after the tolerances (int8, shapes from the inputs). */
    public AnalysisOptions(
            Path model,
            List<Path> inputs,
            Path calib,
            List<AgentEndpoint> devices,
            Path profile,
            Path reportDir,
            InputSpec spec,
            double warnCos,
            double wrongCos,
            double atol,
            double rtol) {
        this(
                model,
                inputs,
                calib,
                devices,
                profile,
                reportDir,
                spec,
                warnCos,
                wrongCos,
                atol,
                rtol,
                QuantizationOptions.DEFAULT,
                null,
                Map.of(),
                null,
                false);
    }

    /** These options with {@code bisect} set as given. */
    public AnalysisOptions withBisect(boolean b) {
        return new AnalysisOptions(
                model,
                inputs,
                calib,
                devices,
                profile,
                reportDir,
                spec,
                warnCos,
                wrongCos,
                atol,
                rtol,
                quant,
                quantized,
                inputShapes,
                size,
                b);
    }

    /** These options with another report folder (null for none, as in a run's key). */
    public AnalysisOptions withReportDir(Path dir) {
        return new AnalysisOptions(
                model,
                inputs,
                calib,
                devices,
                profile,
                dir,
                spec,
                warnCos,
                wrongCos,
                atol,
                rtol,
                quant,
                quantized,
                inputShapes,
                size,
                bisect);
    }

    /** The first running agent given, or null for the embedded emulated device (for steps that use one device). */
    public AgentEndpoint device() {
        return devices.isEmpty() ? null : devices.get(0);
    }
}
