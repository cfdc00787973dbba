package dev.layerprobe.host.cli;

import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.host.analyze.Analysis;
import dev.layerprobe.host.analyze.AnalysisOptions;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code layerprobe analyze}: golden vs simulator vs device, layer by layer, with a diagnosis. */
@Command(
        name = "analyze",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Compare the float model (ONNX Runtime), the quantized model on the simulator and on the"
                + " device, layer by layer, and say where they depart.")
final class AnalyzeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "the float ONNX model")
    Path model;

    @Option(
            names = "--input",
            required = true,
            paramLabel = "FILE|DIR",
            description = "an input image (PNG/JPEG, resized to the model input), .npy, or a folder of them;"
                    + " repeatable; metrics are over all inputs (pooled, mean and worst)")
    List<Path> inputs;

    @Option(names = "--calib", paramLabel = "DIR", description = "calibration images (default: the inputs)")
    Path calib;

    @Option(
            names = "--quantized",
            paramLabel = "QDQ.onnx",
            description = "use this quantized model (QDQ ONNX, e.g. from layerprobe quantize or another tool)"
                    + " instead of quantizing here")
    Path quantized;

    @Mixin
    DeviceOptions target;

    @Option(
            names = "--report",
            paramLabel = "DIR",
            defaultValue = "layerprobe-report",
            description = "where report.json, report.csv and dumps/ go (default: ${DEFAULT-VALUE})")
    Path report;

    @Mixin
    InputOptions input;

    @Mixin
    QuantOptions quant;

    @Mixin
    ThresholdOptions thresholds;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call()
            throws UsageException, InputException, LayerProbeException, GoldenException, AgentException,
                    AgentSetupException, IOException {
        AnalysisOptions o = new AnalysisOptions(
                model,
                InputLoader.expandFolders(inputs),
                calib,
                target.endpoint(),
                target.profile,
                report,
                input.spec(),
                thresholds.warnCos,
                thresholds.wrongCos,
                thresholds.atol,
                thresholds.rtol,
                quant.toOptions(),
                quantized,
                input.shapes(),
                input.heightWidth());
        new Analysis(o, spec.commandLine().getOut()).run();
        return 0;
    }
}
