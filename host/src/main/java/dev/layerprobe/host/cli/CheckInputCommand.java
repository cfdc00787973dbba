package dev.layerprobe.host.cli;

import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.host.analyze.PreprocessingCheck;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.input.InputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code layerprobe check-input}: which preprocessing does the device's first layer agree with? */
@Command(
        name = "check-input",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Run the device once and compare its first layer with the float simulator's on candidate"
                + " preprocessings of the input (channel order, NCHW/NHWC layout, 0..1/0..255, mean/std);"
                + " say which one the device agrees with.")
final class CheckInputCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "the float ONNX model")
    Path model;

    @Option(
            names = "--input",
            required = true,
            paramLabel = "IMG",
            description = "the input image (PNG/JPEG, resized to the model input) or a preprocessed .npy")
    Path input;

    @Option(
            names = "--device-input",
            paramLabel = "FILE.npy",
            description = "the tensor the device's own pipeline fed for this input (e.g. captured from the app);"
                    + " default: --input preprocessed as given")
    Path deviceInput;

    @Mixin
    DeviceOptions target;

    @Option(
            names = "--float",
            description = "upload the compiled float model instead of an int8 QDQ model"
                    + " calibrated on the input (for devices that run float)")
    boolean floatUpload;

    @Mixin
    InputOptions preprocessing;

    @Override
    public Integer call()
            throws UsageException, InputException, LayerProbeException, AgentException, AgentSetupException,
                    IOException {
        PreprocessingCheck.Options o = new PreprocessingCheck.Options(
                model,
                input,
                deviceInput,
                target.endpoint(),
                target.profile,
                preprocessing.spec(),
                preprocessing.shapes(),
                preprocessing.heightWidth(),
                floatUpload);
        new PreprocessingCheck(o, spec.commandLine().getOut()).run();
        return 0;
    }
}
