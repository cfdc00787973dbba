package dev.layerprobe.host.cli;

import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.host.analyze.Analysis;
import dev.layerprobe.host.analyze.AnalysisOptions;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.demo.DemoModel;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code layerprobe demo}: the whole path on a model built in code, with no file from outside the
 * repository. A MobilePose-like network is quantized on bundled photos and run on the embedded
 * emulated device, whose profile computes the first PixelShuffle (DepthToSpace) in the wrong mode,
 * as the DPU compiler did to the MobilePose deployment; the analysis must point at that layer.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = "Run the analysis end to end on a built-in MobilePose-like model and an emulated device"
                + " with a PixelShuffle (DepthToSpace) fault.")
final class DemoCommand implements Callable<Integer> {
    static final String[] IMAGES = {"chelsea.png", "coffee.png", "rocket.jpg"};

    @Spec
    CommandSpec spec;

    @Option(
            names = "--report",
            paramLabel = "DIR",
            defaultValue = "layerprobe-demo",
            description = "where the model, profile, report and dumps go (default: ${DEFAULT-VALUE})")
    Path report;

    @Option(
            names = "--bisect",
            description = "emulate a device that returns only the model's outputs (dumps: outputs_only), so the"
                    + " fault is found by running prefixes of the model on it")
    boolean bisect;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call()
            throws InputException, LayerProbeException, GoldenException, AgentException, AgentSetupException,
                    IOException {
        PrintWriter out = spec.commandLine().getOut();
        Files.createDirectories(report);
        Path model = report.resolve("demo_pose.onnx");
        Files.write(model, DemoModel.build(2024).toByteArray());
        Path images = report.resolve("images");
        List<Path> files = extractImages(images);

        NpuProgram plan = Simulator.compile(model, CompileOptions.DEFAULT);
        Layer target = plan.layers().stream()
                .filter(l -> l.op().equals("DepthToSpace"))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("the demo model has no DepthToSpace layer"));
        Path profile = report.resolve("demo_profile.yaml");
        Files.writeString(
                profile,
                "# An emulated NPU whose compiler lowers this PixelShuffle with the wrong channel order\n"
                        + "name: demo-npu\n"
                        + (bisect
                                ? "# and whose runtime returns the model's outputs, no layer dumps\ndumps: outputs_only\n"
                                : "")
                        + "faults:\n"
                        + "  - kind: depth_to_space_mode_swap\n"
                        + "    layer: " + target.name() + "\n");
        out.println("LayerProbe demo: model " + model + " (" + plan.layers().size() + " layers), device profile "
                + profile + " (depth_to_space_mode_swap on layer '" + target.name() + "'"
                + (bisect ? "; outputs only, no layer dumps" : "") + ")");
        out.flush();

        AnalysisOptions o = new AnalysisOptions(
                model,
                List.of(files.get(0)),
                images,
                null,
                profile,
                report,
                InputSpec.IMAGENET,
                0.99,
                0.98,
                1e-5,
                1e-3);
        Report r = new Analysis(o, out).run();
        Report.RuntimeFault f = r.rootCause().runtime();
        out.println();
        if (f != null && f.layer().equals(target.name())) {
            out.println("Demo: LayerProbe found the injected fault: layer '" + f.layer() + "' (" + f.op() + ")"
                    + (r.bisect() == null
                            ? ""
                            : " by bisection in " + r.bisect().deviceRuns() + " device runs")
                    + ".");
        } else {
            out.println("Demo: expected the fault at '" + target.name() + "' but the analysis found "
                    + (f == null ? "none" : "'" + f.layer() + "'"));
            return 1;
        }
        return 0;
    }

    private static List<Path> extractImages(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> files = new ArrayList<>();
        for (String name : IMAGES) {
            Path target = dir.resolve(name);
            try (InputStream in = DemoModel.class.getResourceAsStream(name)) {
                if (in == null) {
                    throw new IOException("bundled demo image " + name + " is missing from the build");
                }
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
            files.add(target);
        }
        return files;
    }
}
