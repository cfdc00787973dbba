package dev.layerprobe.host.cli;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.dump.layout.RknnSnapshotLayout;
import dev.layerprobe.host.analyze.CompareOptions;
import dev.layerprobe.host.analyze.DumpComparison;
import dev.layerprobe.host.input.InputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code layerprobe compare}: two dump folders in any supported layout, layer by layer; or one whole
 * RKNN-Toolkit2 snapshot folder, its golden, simulator and runtime sides compared as {@code analyze}
 * compares its three runs.
 */
@Command(
        name = "compare",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Compare two per-layer dump folders (LayerProbe, .npy, RKNN snapshot or runtime, TIDL traces,"
                    + " Vitis AI), mapping their layer names onto each other or onto the model, and say where B departs"
                    + " from A.",
            "With one folder, an RKNN-Toolkit2 accuracy_analysis snapshot: golden vs runtime, with the simulator"
                    + " side as a third column where it exists. RKNN's own error_analysis.txt, when beside the dumps, is"
                    + " shown next to LayerProbe's figures."
        })
final class CompareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "A", description = "the reference dump folder (e.g. golden or simulator)")
    Path a;

    @Parameters(
            index = "1",
            paramLabel = "B",
            arity = "0..1",
            description =
                    "the dump folder compared with A (e.g. the device's); leave out when A is a whole RKNN snapshot")
    Path b;

    @Option(
            names = "--model",
            paramLabel = "MODEL.onnx",
            description = "the ONNX model (float or QDQ): its layers, op types and shapes to map the dumps onto")
    Path model;

    @Option(
            names = "--map",
            paramLabel = "MAP.yaml",
            description = "dump layer names to ONNX names, and scales of raw fixed-point files")
    Path map;

    @Option(names = "--layout-a", paramLabel = "NAME", description = "A's layout, if detection guesses wrong")
    String layoutA;

    @Option(names = "--layout-b", paramLabel = "NAME", description = "B's layout, if detection guesses wrong")
    String layoutB;

    @Option(names = "--scale", paramLabel = "S", description = "scale of raw fixed-point layers without one (TIDL .y)")
    Double scale;

    @Option(names = "--zero-point", paramLabel = "Z", description = "zero point of raw fixed-point layers (default 0)")
    Long zeroPoint;

    @Option(names = "--fix-pos", paramLabel = "N", description = "Vitis AI fix position for layers without one")
    Integer fixPos;

    @Option(
            names = "--vendor-report",
            paramLabel = "FILE",
            description = "RKNN-Toolkit2's error_analysis.txt to show beside LayerProbe's figures (default: the one at"
                    + " the root of the snapshot the dumps belong to, if any)")
    Path vendorReport;

    @Option(
            names = "--report",
            paramLabel = "DIR",
            defaultValue = "layerprobe-compare",
            description = "where report.json, report.csv and report.html go (default: ${DEFAULT-VALUE})")
    Path report;

    @Mixin
    ThresholdOptions thresholds;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() throws UsageException, InputException, LayerProbeException, IOException {
        for (Path dir : b == null ? new Path[] {a} : new Path[] {a, b}) {
            if (!Files.isDirectory(dir)) {
                throw new UsageException((Files.exists(dir) ? "not a dump folder: " : "dump folder not found: ") + dir);
            }
        }
        if (scale != null && !(scale > 0)) {
            throw new UsageException("--scale must be positive, got " + scale);
        }
        if (vendorReport != null && !Files.isRegularFile(vendorReport)) {
            throw new UsageException("vendor report not found: " + vendorReport);
        }
        Path refDir = a;
        Path otherDir = b;
        Path simulator = null;
        if (b == null) {
            // One folder: a whole snapshot, golden vs runtime with the simulator as the third column;
            // without a board's runtime side (no target given), golden vs simulator.
            if (!RknnSnapshotLayout.isSnapshotRoot(a)) {
                throw new UsageException("compare needs two dump folders, or one RKNN snapshot folder with "
                        + RknnSnapshotLayout.SIDES + " sides; " + a + " is neither");
            }
            Path golden = a.resolve("golden");
            Path sim = a.resolve("simulator");
            Path runtime = a.resolve("runtime");
            if (!Files.isDirectory(golden) || !(Files.isDirectory(runtime) || Files.isDirectory(sim))) {
                throw new UsageException(
                        "the RKNN snapshot " + a + " needs golden/ and runtime/ or simulator/ to compare");
            }
            refDir = golden;
            otherDir = Files.isDirectory(runtime) ? runtime : sim;
            simulator = Files.isDirectory(runtime) && Files.isDirectory(sim) ? sim : null;
        }
        CompareOptions o = new CompareOptions(
                refDir,
                otherDir,
                layoutA,
                layoutB,
                model,
                map,
                scale,
                zeroPoint,
                fixPos,
                report,
                thresholds.warnCos,
                thresholds.wrongCos,
                thresholds.atol,
                thresholds.rtol,
                simulator,
                vendorReport);
        new DumpComparison(o, spec.commandLine().getOut()).run();
        return 0;
    }
}
