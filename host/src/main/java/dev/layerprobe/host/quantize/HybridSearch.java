package dev.layerprobe.host.quantize;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.golden.GoldenRunner;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.LayerPrecision;
import dev.layerprobe.simulator.quant.QdqWriter;
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
 * {@code propose-hybrid}: a search for the few layers to run at a higher precision so the
 * quantized model's final output reaches a cos target against ONNX Runtime's float run.
 *
 * <p>Scores the model at the base precision and ranks its layers once by their own
 * {@code per_layer} error (docs/architecture.md#three-results-four-comparisons: each layer fed the golden inputs, on the first one or two
 * samples). Then, in three phases, each step printed:
 * <ol>
 *   <li><b>greedy</b>: promotes the worst-ranked candidates one at a time (at most
 *       {@link #GREEDY_TRIALS}), keeping a promotion only when the final cos improves; enough where
 *       a few layers carry the loss;</li>
 *   <li><b>prefix</b>: where that falls short, promotes the kept layers plus the other candidates in
 *       rank order up to the layer budget at once; if even that misses the target, the target is out
 *       of reach within the budget, otherwise a bisection finds the shortest such prefix that
 *       reaches it (networks that amplify small errors everywhere need many layers promoted);</li>
 *   <li><b>prune</b>: tries demoting each promoted layer again, least own error first, and keeps
 *       the demotion when the target still holds.</li>
 * </ol>
 * Every score quantizes, compiles and runs the model on the evaluation samples, which share one
 * calibration. Not thread-safe.
 */
public final class HybridSearch {
    /** Samples (at most) whose per-layer errors rank the candidates. */
    static final int RANKING_SAMPLES = 2;
    /** Single promotions tried by the greedy phase (fewer when the layer budget is smaller). */
    static final int GREEDY_TRIALS = 10;

    /** One candidate's own error: its per_layer cos at the base precision. */
    public record Candidate(String layer, String op, double perLayerCos) {}

    /**
     * One step tried: what it did in words, the cos with it, the change against the best before,
     * whether it was kept, and how many layers were promoted in the model it scored.
     */
    public record Step(int number, String action, double cos, double delta, boolean kept, int promoted) {}

    /**
     * The outcome.
     *
     * @param baseCos  the final output's cos with no layer promoted (other than a starting hybrid file)
     * @param bestCos  the cos of the proposal: the fewest promotions reaching the target, else the best cos
     * @param layers   the per-layer precisions of the proposal (starting hybrid first)
     * @param promoted how many layers the search promoted in it
     * @param steps    every step tried
     * @param reached  whether bestCos reached the target
     */
    public record Result(
            double baseCos,
            double bestCos,
            Map<String, LayerPrecision> layers,
            int promoted,
            List<Step> steps,
            boolean reached) {}

    private final PrintWriter out;

    public HybridSearch(PrintWriter out) {
        this.out = out;
    }

    /** The search's state: golden outputs, the model pieces every score needs, the steps so far. */
    private final class Run {
        final NpuProgram floatProgram;
        final Calibration calibration;
        final QuantizationOptions base;
        final String modelName;
        final List<Map<String, Tensor>> samples;
        final List<Tensor> golden;
        final String output;
        final Map<String, LayerPrecision> start;
        final LayerPrecision to;
        final List<Step> steps = new ArrayList<>();

        Run(
                NpuProgram floatProgram,
                Calibration calibration,
                QuantizationOptions base,
                String modelName,
                List<Map<String, Tensor>> samples,
                List<Tensor> golden,
                String output,
                Map<String, LayerPrecision> start,
                LayerPrecision to) {
            this.floatProgram = floatProgram;
            this.calibration = calibration;
            this.base = base;
            this.modelName = modelName;
            this.samples = samples;
            this.golden = golden;
            this.output = output;
            this.start = start;
            this.to = to;
        }

        /** The final cos with these layers promoted (on top of the starting hybrid file). */
        double score(List<String> promoted) throws SimulatorException {
            Map<String, LayerPrecision> overrides = overrides(promoted);
            NpuProgram p = compile(floatProgram, calibration, base, overrides, modelName);
            return HybridSearch.score(p, samples, golden, output);
        }

        Map<String, LayerPrecision> overrides(List<String> promoted) {
            Map<String, LayerPrecision> m = new LinkedHashMap<>(start);
            promoted.forEach(l -> m.put(l, to));
            return m;
        }

        void step(String action, double cos, double before, boolean kept, int promoted) {
            Step s = new Step(steps.size() + 1, action, cos, cos - before, kept, promoted);
            steps.add(s);
            out.printf(
                    Locale.ROOT,
                    "step %d: %s -> cos %.6f (%+.6f)%s%n",
                    s.number(),
                    action,
                    cos,
                    s.delta(),
                    kept ? "" : ", undone");
            out.flush();
        }
    }

    /**
     * Runs the search.
     *
     * @param start      per-layer precisions to start from (a hybrid file given with the base options), or empty
     * @param to         the precision promoted layers get
     * @param targetCos  the final cos to reach
     * @param maxLayers  the most layers the proposal may promote
     */
    public Result run(
            NpuProgram floatProgram,
            Calibration calibration,
            ModelProto floatModel,
            String modelName,
            List<Map<String, Tensor>> evalSamples,
            QuantizationOptions base,
            Map<String, LayerPrecision> start,
            LayerPrecision to,
            double targetCos,
            int maxLayers)
            throws SimulatorException, GoldenException {
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
        Run run = new Run(floatProgram, calibration, base, modelName, evalSamples, golden, output, start, to);
        NpuProgram baseProgram = compile(floatProgram, calibration, base, start, modelName);
        double baseCos = score(baseProgram, evalSamples, golden, output);
        out.printf(
                Locale.ROOT,
                "base (%s%s): cos %.6f over %d samples, target %s%n",
                base.precision().yamlName(),
                start.isEmpty() ? "" : ", " + start.size() + " layers from the hybrid file",
                baseCos,
                evalSamples.size(),
                format(targetCos));
        List<Candidate> candidates = rank(floatProgram, baseProgram, goldenAll, start.keySet());
        out.printf("%d candidate layers ranked by their own per_layer error%n", candidates.size());
        out.flush();
        Map<String, Candidate> byName = new HashMap<>();
        candidates.forEach(c -> byName.put(c.layer(), c));

        // Greedy: single promotions, worst own error first, kept when they help.
        List<String> kept = new ArrayList<>();
        double bestCos = baseCos;
        int trials = Math.min(GREEDY_TRIALS, maxLayers);
        for (int i = 0; i < candidates.size() && i < trials && bestCos < targetCos; i++) {
            Candidate c = candidates.get(i);
            List<String> trial = new ArrayList<>(kept);
            trial.add(c.layer());
            double cos = run.score(trial);
            boolean keep = cos > bestCos;
            run.step(
                    "promote " + c.layer() + " (" + c.op() + ")",
                    cos,
                    bestCos,
                    keep,
                    keep ? trial.size() : kept.size());
            if (keep) {
                kept = trial;
                bestCos = cos;
            }
        }
        List<String> proposal = kept;
        double proposalCos = bestCos;

        // Prefix: the kept layers and the other candidates in rank order (those the greedy phase
        // undid included: alone they did not help, with the others they may), up to the budget.
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < candidates.size() && kept.size() + rest.size() < maxLayers; i++) {
            if (!kept.contains(candidates.get(i).layer())) {
                rest.add(candidates.get(i).layer());
            }
        }
        if (proposalCos < targetCos && !rest.isEmpty()) {
            List<String> all = concat(kept, rest);
            double allCos = run.score(all);
            boolean reaches = allCos >= targetCos;
            run.step(
                    "promote " + rest.size() + " more candidates in rank order (" + all.size() + " layers)",
                    allCos,
                    proposalCos,
                    reaches || allCos > proposalCos,
                    all.size());
            if (allCos > proposalCos) {
                proposal = all;
                proposalCos = allCos;
            }
            if (reaches) {
                // Bisection for the shortest prefix that reaches the target: lo misses, hi reaches.
                int lo = 0;
                int hi = rest.size();
                while (hi - lo > 1) {
                    int mid = (lo + hi) >>> 1;
                    List<String> trial = concat(kept, rest.subList(0, mid));
                    double cos = run.score(trial);
                    boolean ok = cos >= targetCos;
                    run.step(
                            "promote the first " + mid + " of them (" + trial.size() + " layers)",
                            cos,
                            proposalCos,
                            ok,
                            ok ? trial.size() : proposal.size());
                    if (ok) {
                        hi = mid;
                        proposal = trial;
                        proposalCos = cos;
                    } else {
                        lo = mid;
                    }
                }
            }
        }

        // Prune: demote again what the target does not need, least own error first.
        if (proposalCos >= targetCos && proposal.size() > 1) {
            List<String> order = new ArrayList<>(proposal);
            order.sort(Comparator.comparingDouble((String l) -> byName.get(l).perLayerCos())
                    .reversed());
            for (String l : order) {
                if (proposal.size() <= 1) {
                    break;
                }
                List<String> trial = new ArrayList<>(proposal);
                trial.remove(l);
                double cos = run.score(trial);
                boolean ok = cos >= targetCos;
                run.step(
                        "demote " + l + " (" + byName.get(l).op() + ")",
                        cos,
                        proposalCos,
                        ok,
                        ok ? trial.size() : proposal.size());
                if (ok) {
                    proposal = trial;
                    proposalCos = cos;
                }
            }
        }
        return new Result(
                baseCos,
                proposalCos,
                Collections.unmodifiableMap(run.overrides(proposal)),
                proposal.size(),
                List.copyOf(run.steps),
                proposalCos >= targetCos);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> r = new ArrayList<>(a);
        r.addAll(b);
        return r;
    }

    /** cos printed with enough digits to tell it from the target. */
    public static String format(double cos) {
        return String.format(Locale.ROOT, "%.6f", cos)
                .replaceAll("(\\.\\d*?)0+$", "$1")
                .replaceAll("\\.$", "");
    }

    private static NpuProgram compile(
            NpuProgram floatProgram,
            Calibration calibration,
            QuantizationOptions base,
            Map<String, LayerPrecision> overrides,
            String modelName)
            throws SimulatorException {
        ModelProto qdq = QdqWriter.write(
                floatProgram, calibration, Quantizer.config(base).withOverrides(overrides));
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
    private static List<Candidate> rank(
            NpuProgram floatProgram, NpuProgram sim, List<Map<String, Tensor>> goldenAll, Set<String> exclude)
            throws SimulatorException {
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
            if (m == null
                    || !known.contains(l.name())
                    || exclude.contains(l.name())
                    || l.placement() != Placement.NPU) {
                continue;
            }
            double cos = m.result().cos();
            candidates.add(new Candidate(l.name(), l.opLabel(), Double.isNaN(cos) ? -1.0 : cos));
        }
        candidates.sort(Comparator.comparingDouble(Candidate::perLayerCos));
        return candidates;
    }
}
