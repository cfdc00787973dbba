package dev.layerprobe.host.cli;

import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.host.analyze.Analysis;
import dev.layerprobe.host.analyze.AnalysisOptions;
import dev.layerprobe.host.analyze.DatasetOptions;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
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
public final class AnalyzeCommand implements Callable<Integer> {
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

    @Option(
            names = "--labels",
            paramLabel = "FILE|DIR",
            description = "class of each input, for the accuracy of golden, simulator and device: a CSV of"
                    + " file,label (class index from 0), or the --input folder when it has one subfolder per class")
    Path labels;

    @Option(
            names = "--dump-inputs",
            paramLabel = "first|worst|all|N,M",
            defaultValue = "first",
            description = "which inputs keep their golden, simulator and runtime dumps (default: ${DEFAULT-VALUE},"
                    + " under dumps/; others under dumps/input-N/)")
    String dumpInputs;

    @Option(
            names = "--resume",
            description = "continue the interrupted run whose state is in the --report folder (same model, inputs"
                    + " and options): inputs already done are not run again")
    boolean resume;

    @Option(
            names = "--shard",
            paramLabel = "I/N",
            description = "run only the inputs at positions I, I+N, I+2N, ... of the sorted inputs and keep"
                    + " their results for layerprobe merge")
    String shard;

    @Option(
            names = "--bisect",
            description = "find a runtime fault by running prefixes of the quantized model on the device and"
                    + " comparing their outputs, not from the device's layer dumps (automatic when the device"
                    + " reports only the model's outputs)")
    boolean bisect;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call()
            throws UsageException, InputException, LayerProbeException, GoldenException, AgentException,
                    AgentSetupException, IOException {
        new Analysis(options(), dataset(), spec.commandLine().getOut(), i -> {}).run();
        return 0;
    }

    /**
     * The options an {@code analyze} command line (its arguments after {@code analyze}) asks for,
     * parsed and checked as the CLI does, so that a benchmark runs exactly what a user would.
     *
     * @throws picocli.CommandLine.ParameterException when the arguments do not parse
     * @throws UsageException when preprocessing options contradict each other
     * @throws InputException when an input or an input shape cannot be used
     */
    public static AnalysisOptions options(String... args) throws UsageException, InputException {
        PrintWriter none = new PrintWriter(Writer.nullWriter());
        String[] all = new String[args.length + 1];
        all[0] = "analyze";
        System.arraycopy(args, 0, all, 1, args.length);
        CommandLine.ParseResult parsed = LayerProbeCli.commandLine(none, none).parseArgs(all);
        return ((AnalyzeCommand) parsed.subcommand().commandSpec().userObject()).options();
    }

    private DatasetOptions dataset() throws InputException {
        return new DatasetOptions(
                labels,
                DatasetOptions.Dumps.parse(dumpInputs),
                resume,
                shard == null ? null : DatasetOptions.Shard.parse(shard));
    }

    private AnalysisOptions options() throws UsageException, InputException {
        return new AnalysisOptions(
                model,
                InputLoader.expandFolders(inputs),
                calib,
                target.endpoints(),
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
                input.heightWidth(),
                bisect);
    }
}
