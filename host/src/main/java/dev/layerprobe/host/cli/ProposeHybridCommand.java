package dev.layerprobe.host.cli;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.io.AtomicFiles;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.quantize.HybridSearch;
import dev.layerprobe.host.quantize.QuantizationOptions;
import dev.layerprobe.host.quantize.Quantizer;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.HybridSpec;
import dev.layerprobe.simulator.quant.LayerPrecision;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code layerprobe propose-hybrid}: proposes a hybrid-precision file (the layers to run in int16
 * or fp16) that brings the quantized model's final output to a cos target against ONNX Runtime's
 * float run; the search is {@link HybridSearch}'s.
 */
@Command(
        name = "propose-hybrid",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Propose the few layers to run at a higher precision so the quantized model reaches a cos"
                + " target; writes a hybrid YAML for quantize/analyze --hybrid.")
final class ProposeHybridCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "the float ONNX model")
    Path model;

    @Option(names = "--calib", required = true, paramLabel = "DIR", description = "calibration images or .npy files")
    Path calib;

    @Option(
            names = "--target-cos",
            required = true,
            paramLabel = "COS",
            description = "the final output's cos against ONNX Runtime (float) to reach, e.g. 0.99")
    double targetCos;

    @Option(
            names = "--to",
            defaultValue = "int16",
            paramLabel = "TYPE",
            description = "precision of promoted layers: int16 or fp16 (default ${DEFAULT-VALUE})")
    LayerPrecision to;

    @Option(
            names = {"-o", "--output"},
            paramLabel = "HYBRID.yaml",
            description = "the proposed hybrid file (default: MODEL.hybrid.yaml next to the model)")
    Path output;

    @Option(
            names = "--eval",
            defaultValue = "4",
            paramLabel = "N",
            description = "calibration samples that score each step (${DEFAULT-VALUE})")
    int eval;

    @Option(
            names = "--max-layers",
            paramLabel = "K",
            description = "the most layers to promote (default: as many as it takes)")
    Integer maxLayers;

    @Mixin
    QuantOptions quant;

    @Mixin
    InputOptions input;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() throws UsageException, InputException, LayerProbeException, GoldenException, IOException {
        PrintWriter out = spec.commandLine().getOut();
        QuantizationOptions q = quant.toOptions();
        if (to != LayerPrecision.INT16 && to != LayerPrecision.FP16) {
            throw new UsageException("--to must be int16 or fp16, got " + to.yamlName());
        }
        if (q.precision() == LayerPrecision.FLOAT32 || q.precision() == to) {
            throw new UsageException("--dtype " + q.precision().yamlName() + " leaves nothing to promote to "
                    + to.yamlName() + "; use --dtype int8 or uint8");
        }
        if (!(targetCos > -1 && targetCos <= 1)) {
            throw new UsageException("--target-cos must be in (-1, 1], got " + targetCos);
        }
        if (eval < 1) {
            throw new UsageException("--eval must be at least 1, got " + eval);
        }
        int budget = maxLayers == null ? Integer.MAX_VALUE : maxLayers;
        if (budget < 0) {
            throw new UsageException("--max-layers must not be negative, got " + maxLayers);
        }
        FloatModelAtSize m = FloatModelAtSize.load(model, calib, input, "propose-hybrid");
        ModelProto floatModel = m.floatModel();
        NpuProgram floatProgram = m.floatProgram();
        ValueInfo in = m.input();
        int[] shape = m.shape();
        List<Path> files = m.files();
        Map<String, LayerPrecision> start = new LinkedHashMap<>();
        if (q.hybrid() != null) {
            HybridSpec h = HybridSpec.load(q.hybrid());
            h.validate(floatProgram);
            start.putAll(h.layers());
        }
        Calibration calibration =
                new Quantizer(out).calibrate(floatProgram, floatModel.toByteArray(), files, input.spec(), q);
        List<Map<String, Tensor>> samples = new ArrayList<>();
        for (Path f : files.subList(0, Math.min(eval, files.size()))) {
            samples.add(Map.of(in.name(), InputLoader.load(f, shape, input.spec())));
        }
        HybridSearch.Result r = new HybridSearch(out)
                .run(
                        floatProgram,
                        calibration,
                        floatModel,
                        model.getFileName().toString(),
                        samples,
                        q,
                        start,
                        to,
                        targetCos,
                        budget);

        Path target = output != null ? output : defaultOutput(model);
        AtomicFiles.writeString(target, yaml(r.layers()));
        String where = r.layers().size() + " layer" + (r.layers().size() == 1 ? "" : "s") + " in " + to.yamlName();
        if (!start.isEmpty()) {
            where = r.promoted() + " promoted to " + to.yamlName() + ", "
                    + r.layers().size() + " in the hybrid file";
        }
        if (r.reached()) {
            out.printf(
                    Locale.ROOT,
                    "target %s reached: cos %.6f (base %.6f) with %d layer%s promoted to %s%n",
                    HybridSearch.format(targetCos),
                    r.bestCos(),
                    r.baseCos(),
                    r.promoted(),
                    r.promoted() == 1 ? "" : "s",
                    to.yamlName());
        } else {
            String within = maxLayers == null
                    ? "even with every candidate layer in " + to.yamlName()
                    : "with at most " + budget + " layer" + (budget == 1 ? "" : "s") + " in " + to.yamlName();
            out.printf(
                    Locale.ROOT,
                    "target %s out of reach %s: best cos %.6f (base %.6f) with %s%n",
                    HybridSearch.format(targetCos),
                    within,
                    r.bestCos(),
                    r.baseCos(),
                    where);
        }
        out.printf(
                "wrote %s; use it with: layerprobe quantize %s --calib %s --hybrid %s (and the same options)%n",
                target, model, calib, target);
        out.flush();
        return 0;
    }

    /** The hybrid YAML that {@link HybridSpec#load} reads: layer names quoted. */
    static String yaml(Map<String, LayerPrecision> layers) {
        StringBuilder b = new StringBuilder("# proposed by layerprobe propose-hybrid\n");
        if (layers.isEmpty()) {
            return b.append("layers: {}\n").toString();
        }
        b.append("layers:\n");
        for (Map.Entry<String, LayerPrecision> e : layers.entrySet()) {
            b.append("  \"")
                    .append(e.getKey().replace("\\", "\\\\").replace("\"", "\\\""))
                    .append("\": ")
                    .append(e.getValue().yamlName())
                    .append('\n');
        }
        return b.toString();
    }

    private static Path defaultOutput(Path model) {
        String n = model.getFileName().toString();
        String base = n.endsWith(".onnx") ? n.substring(0, n.length() - 5) : n;
        return model.resolveSibling(base + ".hybrid.yaml");
    }
}
