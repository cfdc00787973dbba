package dev.layerprobe.host.quantize;

import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.host.golden.GoldenRunner;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.LayerValue;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.LayerPrecision;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.tensor.Tensor;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code propose-hybrid}: a greedy search for the few layers to run at a higher precision so the
 * quantized model's final output reaches a cos target against ONNX Runtime's float run.
 *
 * <p>Scores the model at the base precision, ranks its layers once by their own {@code per_layer}
 * error (DESIGN §2: each layer fed the golden inputs, on the first one or two samples), then
 * promotes the candidates one at a time, worst first, keeping a promotion only when the final cos
 * improves. Every score quantizes, compiles and runs the model on the evaluation samples, which
 * share one calibration. Not thread-safe.
 */
public final class HybridSearch {
    /** Samples (at most) whose per-layer errors rank the candidates. */
    static final int RANKING_SAMPLES = 2;

    /** One candidate's own error: its per_layer cos at the base precision. */
    public record Candidate(String layer, String op, double perLayerCos) {
    }

    /** One promotion tried: the cos with it, the change against the best before, and whether it was kept. */
    public record Step(int number, Candidate candidate, double cos, double delta, boolean kept) {
    }

    /**
     * The outcome.
     *
     * @param baseCos  the final output's cos with no layer promoted (other than a starting hybrid file)
     * @param bestCos  the best final cos reached
     * @param layers   the per-layer precisions of the best model, in promotion order (starting hybrid first)
     * @param promoted how many layers the search promoted (kept)
     * @param steps    every promotion tried
     * @param reached  whether bestCos reached the target
     */
    public record Result(double baseCos, double bestCos, Map<String, LayerPrecision> layers, int promoted,
            List<Step> steps, boolean reached) {
    }

    private final PrintWriter out;

    public HybridSearch(PrintWriter out) {
        this.out = out;
    }

    /**
     * Runs the search.
     *
     * @param start      per-layer precisions to start from (a hybrid file given with the base options), or empty
     * @param to         the precision promoted layers get
     * @param targetCos  the final cos to reach
     * @param maxLayers  the most promotions to try
     */
    public Result run(NpuProgram floatProgram, Calibration calibration, ModelProto floatModel, String modelName,
            List<Map<String, Tensor>> evalSamples, QuantizationOptions base, Map<String, LayerPrecision> start,
            LayerPrecision to, double targetCos, int maxLayers) throws Exception {
        String output = floatProgram.outputs().get(0);
        List<Tensor> golden = new ArrayList<>();
        List<Map<String, Tensor>> goldenAll = new ArrayList<>();
        try (GoldenRunner g = GoldenRunner.of(floatModel, modelName)) {
            for (int i = 0; i < evalSamples.size(); i++) {
                Map<String, Tensor> values = g.run(evalSamples.get(i));
                golden.add(values.get(output));
                if (i < RANKING_SAMPLES) {
                    goldenAll.add(values);
                }
            }
        }
        Map<String, LayerPrecision> best = new LinkedHashMap<>(start);
        NpuProgram baseProgram = compile(floatProgram, calibration, base, best, modelName);
        double baseCos = score(baseProgram, evalSamples, golden, output);
        out.printf(Locale.ROOT, "base (%s%s): cos %.6f over %d samples, target %s%n", base.precision().yamlName(),
                best.isEmpty() ? "" : ", " + best.size() + " layers from the hybrid file", baseCos, evalSamples.size(),
                format(targetCos));
        List<Candidate> candidates = rank(floatProgram, baseProgram, goldenAll, best.keySet());
        out.printf("%d candidate layers ranked by their own per_layer error%n", candidates.size());
        out.flush();

        double bestCos = baseCos;
        List<Step> steps = new ArrayList<>();
        int promoted = 0;
        for (int i = 0; i < candidates.size() && steps.size() < maxLayers && !(bestCos >= targetCos); i++) {
            Candidate c = candidates.get(i);
            Map<String, LayerPrecision> trial = new LinkedHashMap<>(best);
            trial.put(c.layer(), to);
            double cos = score(compile(floatProgram, calibration, base, trial, modelName), evalSamples, golden, output);
            boolean kept = cos > bestCos;
            Step s = new Step(steps.size() + 1, c, cos, cos - bestCos, kept);
            steps.add(s);
            out.printf(Locale.ROOT, "step %d: promote %s (%s) -> cos %.6f (%+.6f)%s%n", s.number(), c.layer(), c.op(),
                    cos, s.delta(), kept ? "" : ", undone");
            out.flush();
            if (kept) {
                best = trial;
                bestCos = cos;
                promoted++;
            }
        }
        return new Result(baseCos, bestCos, Collections.unmodifiableMap(best), promoted, List.copyOf(steps),
                bestCos >= targetCos);
    }

    /** cos printed with enough digits to tell it from the target. */
    public static String format(double cos) {
        return String.format(Locale.ROOT, "%.6f", cos).replaceAll("(\\.\\d*?)0+$", "$1").replaceAll("\\.$", "");
    }

    private static NpuProgram compile(NpuProgram floatProgram, Calibration calibration, QuantizationOptions base,
            Map<String, LayerPrecision> overrides, String modelName) throws SimulatorException {
        ModelProto qdq = QdqWriter.write(floatProgram, calibration, Quantizer.config(base).withOverrides(overrides));
        return Simulator.compile(qdq, modelName, CompileOptions.DEFAULT);
    }

    /** The final output's cos against the golden outputs, pooled over the samples. */
    private static double score(NpuProgram sim, List<Map<String, Tensor>> samples, List<Tensor> golden, String output)
            throws SimulatorException {
        Metrics m = new Metrics();
        for (int i = 0; i < samples.size(); i++) {
            Map<String, LayerValue> r = sim.run(samples.get(i), LayerObserver.NONE);
            m.add(golden.get(i).toFloat().floats(), r.get(output).real().floats());
        }
        double cos = m.result().cos();
        return Double.isNaN(cos) ? -1.0 : cos;
    }

    /**
     * The layers worth promoting, worst per_layer cos first: NPU layers of the quantized program that
     * the float program has (so a hybrid file can name them), with a floating golden value, not already
     * in the starting hybrid file.
     */
    private static List<Candidate> rank(NpuProgram floatProgram, NpuProgram sim, List<Map<String, Tensor>> goldenAll,
            Set<String> exclude) throws SimulatorException {
        Set<String> known = floatProgram.layers().stream().map(Layer::name).collect(Collectors.toSet());
        Map<String, Metrics> perLayer = new HashMap<>();
        for (Map<String, Tensor> g : goldenAll) {
            sim.runPerLayer(g::get, (layer, v) -> {
                Tensor gv = g.get(layer.name());
                if (gv == null || !gv.isFloating() || !v.real().isFloating()) {
                    return;
                }
                float[] a = gv.toFloat().floats();
                float[] b = v.real().toFloat().floats();
                if (a.length == b.length) {
                    perLayer.computeIfAbsent(layer.name(), k -> new Metrics()).add(a, b);
                }
            });
        }
        List<Candidate> candidates = new ArrayList<>();
        for (Layer l : sim.layers()) {
            Metrics m = perLayer.get(l.name());
            if (m == null || !known.contains(l.name()) || exclude.contains(l.name()) || l.placement() != Placement.NPU) {
                continue;
            }
            double cos = m.result().cos();
            candidates.add(new Candidate(l.name(), l.opLabel(), Double.isNaN(cos) ? -1.0 : cos));
        }
        candidates.sort(Comparator.comparingDouble(Candidate::perLayerCos));
        return candidates;
    }
}
