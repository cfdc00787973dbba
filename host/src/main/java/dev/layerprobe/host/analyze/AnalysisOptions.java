package dev.layerprobe.host.analyze;

import dev.layerprobe.host.input.InputSpec;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@link Analysis} runs on.
 *
 * @param model     the float ONNX model
 * @param inputs    input files (images or .npy), at least one
 * @param calib     folder of calibration images, or null to calibrate on the inputs
 * @param device    HOST:PORT of a running agent, or null for the embedded emulated device
 * @param profile   device profile YAML for the embedded device (and the host simulator's numerics), or null
 * @param reportDir where report.json, report.csv and dumps/ go
 * @param spec      preprocessing of image inputs
 * @param warnCos   cosine below which a layer is a warning
 * @param wrongCos  cosine below which a layer is wrong
 * @param atol      allclose absolute tolerance
 * @param rtol      allclose relative tolerance
 */
public record AnalysisOptions(Path model, List<Path> inputs, Path calib, String device, Path profile, Path reportDir,
        InputSpec spec, double warnCos, double wrongCos, double atol, double rtol) {
    public AnalysisOptions {
        inputs = List.copyOf(inputs);
    }
}
