package dev.layerprobe.host.cli;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.io.AtomicFiles;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.quantize.AlgorithmComparison;
import dev.layerprobe.host.quantize.QuantizationOptions;
import dev.layerprobe.host.quantize.Quantizer;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.LayerPrecision;
import dev.layerprobe.simulator.quant.SmoothQuant;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code layerprobe quantize}: calibrate a float model and write it as QDQ ONNX, which the
 * simulator, the agent and ONNX Runtime all run; or, with {@code --compare-algos}, compare
 * calibration algorithms and precisions on the calibration set.
 */
@Command(
        name = "quantize",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Quantize a float ONNX model on a calibration set and write it as QDQ ONNX.")
final class QuantizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "the float ONNX model")
    Path model;

    @Option(names = "--calib", required = true, paramLabel = "DIR", description = "calibration images or .npy files")
    Path calib;

    @Option(
            names = {"-o", "--output"},
            paramLabel = "OUT.qdq.onnx",
            description = "the quantized model (default: MODEL.qdq.onnx next to the model)")
    Path output;

    @Mixin
    QuantOptions quant;

    @Mixin
    InputOptions input;

    @Option(
            names = "--compare-algos",
            description = "quantize with every algorithm, per tensor and per channel, and in int16 and fp16; print"
                    + " the final output's cos and sqnr against ONNX Runtime on the calibration set, and the best")
    boolean compare;

    @Option(
            names = "--eval",
            defaultValue = "16",
            paramLabel = "N",
            description = "calibration samples used to score each variant with --compare-algos (${DEFAULT-VALUE})")
    int eval;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() throws UsageException, InputException, LayerProbeException, GoldenException, IOException {
        PrintWriter out = spec.commandLine().getOut();
        QuantizationOptions q = quant.toOptions();
        if (q.precision() == LayerPrecision.FLOAT32) {
            throw new UsageException("--dtype float32 leaves nothing to quantize; use int8, uint8, int16 or fp16");
        }
        if (eval < 1) {
            throw new UsageException("--eval must be at least 1, got " + eval);
        }
        FloatModelAtSize m = FloatModelAtSize.load(model, calib, input, "quantize");
        ModelProto floatModel = m.floatModel();
        NpuProgram floatProgram = m.floatProgram();
        ValueInfo in = m.input();
        int[] shape = m.shape();
        List<Path> files = m.files();
        Quantizer quantizer = new Quantizer(out);
        String name = model.getFileName().toString();
        if (compare) {
            QuantizationOptions h = withHistograms(q.withSmoothQuant(0));
            Calibration calibration =
                    quantizer.calibrate(floatProgram, floatModel.toByteArray(), files, input.spec(), h);
            // SmoothQuant rows: their own float program, calibrated the same way.
            QuantizationOptions sq = h.withSmoothQuant(q.smoothed() ? q.smoothQuant() : 0.5);
            SmoothQuant.Result smoothed = quantizer.smooth(floatProgram, name, files, input.spec(), sq);
            AlgorithmComparison.Smoothed extra = smoothed.changed()
                    ? new AlgorithmComparison.Smoothed(
                            smoothed.program(),
                            quantizer.calibrate(smoothed.program(), floatModel.toByteArray(), files, input.spec(), sq),
                            sq.smoothQuant())
                    : null;
            List<Map<String, Tensor>> samples = new ArrayList<>();
            for (Path f : files.subList(0, Math.min(eval, files.size()))) {
                samples.add(Map.of(in.name(), InputLoader.load(f, shape, input.spec())));
            }
            AlgorithmComparison cmp = new AlgorithmComparison(out);
            List<AlgorithmComparison.Row> rows =
                    cmp.run(floatProgram, calibration, extra, floatModel, name, samples, q);
            cmp.print(rows, q.precision().isInteger() ? q.precision() : LayerPrecision.INT8, samples.size());
            return 0;
        }
        floatProgram =
                quantizer.smooth(floatProgram, name, files, input.spec(), q).program();
        Calibration calibration = quantizer.calibrate(floatProgram, floatModel.toByteArray(), files, input.spec(), q);
        ModelProto qdq = quantizer.quantize(floatProgram, calibration, q);
        Path target = output != null ? output : defaultOutput(model);
        AtomicFiles.write(target, qdq.toByteArray());
        NpuProgram check = Simulator.compile(qdq, target.getFileName().toString(), CompileOptions.DEFAULT);
        long npu = check.layers().stream()
                .filter(l -> l.placement() == Placement.NPU)
                .count();
        out.printf(
                "wrote %s: %s, %d layers (%d npu, %d cpu), calibrated on %d inputs%n",
                target,
                Quantizer.describeWritten(q, qdq),
                check.layers().size(),
                npu,
                check.layers().size() - npu,
                files.size());
        for (String note : Quantizer.formNotes(floatModel, qdq)) {
            out.println("note: " + note);
        }
        quantizer.noteUncalibratedBranches(floatProgram, calibration);
        List<String> cpu = check.layers().stream()
                .filter(l -> l.placement() == Placement.CPU)
                .map(Layer::opLabel)
                .distinct()
                .toList();
        if (!cpu.isEmpty()) {
            out.println("on the CPU (no integer kernel): " + String.join(", ", cpu));
        }
        out.flush();
        return 0;
    }

    /** --compare-algos derives every algorithm from one pass, which needs histograms. */
    private static QuantizationOptions withHistograms(QuantizationOptions q) {
        return q.algorithm().needsHistogram()
                ? q
                : new QuantizationOptions(
                        q.precision(),
                        q.perChannel(),
                        dev.layerprobe.simulator.quant.CalibrationAlgorithm.KL,
                        q.percentile(),
                        q.hybrid(),
                        q.calibCache(),
                        q.smoothQuant());
    }

    private static Path defaultOutput(Path model) {
        String n = model.getFileName().toString();
        String base = n.endsWith(".onnx") ? n.substring(0, n.length() - 5) : n;
        return model.resolveSibling(base + ".qdq.onnx");
    }
}
