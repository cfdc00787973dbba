package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.quantize.QuantizationOptions;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.ops.OpTraits;
import dev.layerprobe.simulator.quant.CalibrationAlgorithm;
import dev.layerprobe.simulator.quant.LayerPrecision;
import dev.layerprobe.simulator.quant.SmoothQuant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Quantization hot spots (docs/architecture.md#three-results-four-comparisons): the layers that lose most accuracy in quantization, each
 * with a likely cause and the cheapest fix.
 *
 * <p>Layers are ranked twice, by their own error ({@code 1 - per_layer cos}, when per_layer cos is
 * below {@link #PER_LAYER_COS}) and by the drop of {@code entire} cos across them (the lowest
 * {@code entire} cos of the layers producing their inputs, 1 for graph inputs, minus their own,
 * when above {@link #MIN_DROP}); the two rankings are taken in turn, own error first, up to
 * {@link #LIMIT} layers. Only layers whose own error counts are ranked ({@link #significant}): a layer
 * whose own error is negligible is no fix, however much {@code entire} drops across it (the error it
 * passes on was made upstream), and promoting it cannot help. The cause comes from evidence that is cheap to compute, checked in this
 * order: per-tensor weights whose output channels' max|w| spread over more than
 * {@link #CHANNEL_SPREAD}x; an 8-bit lookup-table nonlinearity; outlier channels in an activation
 * SmoothQuant could move into the next MatMul's weights; an output range much wider than
 * the float values need (one float run of the first few inputs); otherwise the layer's precision
 * itself (int8, int16 or fp16 resolution). A fix never repeats what the run already did: no
 * {@code --per-channel} for a run that quantized weights per channel, no {@code --smooth-quant} for a run that smoothed (a layer the quantizer kept per
 * tensor, such as a MatMul left to the CPU, is diagnosed by its other evidence), no calibration
 * algorithm the run already used.
 * Deterministic; stateless.
 */
public final class HotSpots {
    /** At most this many hot spots. */
    public static final int LIMIT = 5;
    /** A layer whose per_layer cos is below this loses accuracy by itself. */
    static final double PER_LAYER_COS = 0.9999;
    /** A drop of entire cos above this counts even when per_layer cos is high. */
    static final double MIN_DROP = 1e-4;
    /** max|w| per output channel varying more than this is a spread worth per-channel scales. */
    static final double CHANNEL_SPREAD = 10;
    /** The quantized range this many times wider than the 0.01..99.99 percentile range: outliers. */
    static final double OUTLIER_RATIO = 4;
    /** A channel whose max|x| is this many times the median channel's is an outlier channel. */
    static final double OUTLIER_CHANNEL_RATIO = 8;
    /** The central 99% of values using fewer codes than this: the range is wasted on a few values. */
    static final int FEW_CODES = 8;
    /** Per_layer cos below which a layer's own error always counts. */
    static final double OWN_COS = 0.99;
    /** A share of the layers' summed own error (per_layer rel_euc squared) from which a layer's own error counts... */
    static final double OWN_SHARE = 0.05;
    /** ...when it is also this many times the mean own error (squared), i.e. twice the root mean square... */
    static final double OWN_OVER_MEAN = 4;
    /** ...or this share alone: a layer that makes half the error by itself is the place to look. */
    static final double HALF_SHARE = 0.5;
    /** Inputs run through the float program for the activation-range evidence. */
    static final int EVIDENCE_INPUTS = 4;

    private HotSpots() {}

    /**
     * What the hot-spot evidence reads: the quantized program that produced the report's rows, the
     * float program it was quantized from, the quantized model (per-tensor or per-channel weight
     * scales) and the inputs of the analysis.
     *
     * @param sim the simulator program of the report; hot spots are empty unless it is quantized
     * @param floatProgram the float program, or null
     * @param quantizedModel the QDQ model {@code sim} was compiled from, or null
     * @param feeds the analysis inputs; the first {@link #EVIDENCE_INPUTS} are run in float
     * @param settings how the run quantized (weights per channel or per tensor, precision, calibration
     *                 algorithm), or null for a QDQ model made elsewhere
     */
    public record Sources(
            NpuProgram sim,
            NpuProgram floatProgram,
            ModelProto quantizedModel,
            List<Map<String, Tensor>> feeds,
            QuantizationOptions settings) {
        /** Sources of a QDQ model whose quantization settings are unknown. */
        public Sources(
                NpuProgram sim, NpuProgram floatProgram, ModelProto quantizedModel, List<Map<String, Tensor>> feeds) {
            this(sim, floatProgram, quantizedModel, feeds, null);
        }
    }

    /** A layer selected for diagnosis: its row, its own error and the entire-cos drop across it. */
    record Ranked(Report.Layer layer, double error, double drop) {}

    /** A likely cause and the cheapest fix, in plain words. */
    record Diagnosis(String cause, String fix) {}

    /** The hot spots of a report's rows, worst first; empty for a float run. Never throws on missing evidence. */
    public static List<Report.HotSpot> rank(List<Report.Layer> layers, Sources s) {
        if (s == null || s.sim() == null || !s.sim().isQuantized()) {
            return List.of();
        }
        Set<String> counted = new HashSet<>();
        significant(layers).forEach(l -> counted.add(l.name()));
        return diagnoseRanked(select(layers, producers(s.sim()), LIMIT, counted::contains), s);
    }

    /** Cause and fix of the given rows, in their order; empty for a float run. Never throws on missing evidence. */
    static List<Report.HotSpot> diagnose(List<Report.Layer> rows, Sources s) {
        if (s == null || s.sim() == null || !s.sim().isQuantized()) {
            return List.of();
        }
        List<Ranked> ranked = new ArrayList<>();
        for (Report.Layer l : rows) {
            ranked.add(new Ranked(l, 0, 0));
        }
        return diagnoseRanked(ranked, s);
    }

    private static List<Report.HotSpot> diagnoseRanked(List<Ranked> top, Sources s) {
        Map<String, float[]> values = floatValues(s, top);
        Map<String, Integer> weightScales = WeightSpread.scaleSizes(s.quantizedModel());
        List<Report.HotSpot> out = new ArrayList<>();
        for (Ranked r : top) {
            Layer l = s.sim().layer(r.layer().name()).orElse(null);
            Diagnosis d = l == null
                    ? resolution(r.layer().name(), LayerPrecision.INT8)
                    : diagnose(l, s, weightScales, values.get(l.name()));
            out.add(new Report.HotSpot(
                    r.layer().name(), r.layer().op(), r.layer().perLayer().cos(), d.cause(), d.fix()));
        }
        return out;
    }

    /**
     * The rows whose own error counts, in execution order: per_layer cos below {@link #PER_LAYER_COS},
     * and one of: per_layer cos below {@link #OWN_COS}; a share of the layers' summed own error
     * (ε² / Σ ε², ε the per_layer rel_euc, over every row with a per_layer value) of at least
     * {@link #OWN_SHARE} with ε² at least {@link #OWN_OVER_MEAN} times the mean ε²; a share of at least
     * {@link #HALF_SHARE}. A layer at its precision's usual error (int8's, say) is none: removing its
     * share would hardly change the output, and in a small network every layer holds several percent.
     */
    static List<Report.Layer> significant(List<Report.Layer> layers) {
        double sum = 0;
        int counted = 0;
        for (Report.Layer l : layers) {
            double e = ModelVerdicts.ownError(l);
            if (!Double.isNaN(e)) {
                sum += e * e;
                counted++;
            }
        }
        List<Report.Layer> out = new ArrayList<>();
        for (Report.Layer l : layers) {
            double e = ModelVerdicts.ownError(l);
            MetricResult pl = l.perLayer();
            if (Double.isNaN(e) || Double.isNaN(pl.cos()) || pl.cos() >= PER_LAYER_COS) {
                continue;
            }
            double share = sum > 0 ? e * e / sum : 0;
            if (pl.cos() < OWN_COS || share >= HALF_SHARE || (share >= OWN_SHARE && share * counted >= OWN_OVER_MEAN)) {
                out.add(l);
            }
        }
        return out;
    }

    /** For each layer, the layers producing its runtime inputs (graph inputs omitted). */
    static Map<String, List<String>> producers(NpuProgram p) {
        Map<String, String> producerOf = new HashMap<>();
        for (Layer l : p.layers()) {
            for (String o : l.outputs()) {
                producerOf.put(o, l.name());
            }
        }
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (Layer l : p.layers()) {
            List<String> ps = new ArrayList<>();
            for (String in : l.inputs()) {
                String pr = producerOf.get(in);
                if (pr != null && !ps.contains(pr)) {
                    ps.add(pr);
                }
            }
            m.put(l.name(), ps);
        }
        return m;
    }

    /**
     * The ranking alone, over rows with a per_layer column: one list by own error
     * ({@code 1 - per_layer cos}, rows below {@link #PER_LAYER_COS}), one by the drop of entire cos
     * across the layer (rows dropping more than {@link #MIN_DROP}), merged by taking them in turn,
     * own error first, skipping rows already taken; at most {@code limit}. Equal values keep
     * execution order. Taking the lists in turn keeps both kinds in the result: a drop of entire cos
     * grows with the error arriving from upstream, so its values dwarf the layers' own errors.
     *
     * @param producers layer name to the names of the layers producing its inputs; a name without
     *                  a row, or a row without an entire column, is left out; none left means 1
     */
    static List<Ranked> select(List<Report.Layer> layers, Map<String, List<String>> producers, int limit) {
        return select(layers, producers, limit, name -> true);
    }

    /** {@link #select(List, Map, int)} over the rows whose name {@code ranked} accepts (all rows still count as producers). */
    static List<Ranked> select(
            List<Report.Layer> layers,
            Map<String, List<String>> producers,
            int limit,
            java.util.function.Predicate<String> ranked) {
        Map<String, Report.Layer> byName = new HashMap<>();
        for (Report.Layer l : layers) {
            byName.put(l.name(), l);
        }
        List<Ranked> byError = new ArrayList<>();
        List<Ranked> byDrop = new ArrayList<>();
        for (Report.Layer l : layers) {
            MetricResult pl = l.perLayer();
            if (pl == null || Double.isNaN(pl.cos()) || !ranked.test(l.name())) {
                continue;
            }
            double drop = 0;
            if (l.entire() != null && !Double.isNaN(l.entire().cos())) {
                double before = 1;
                for (String p : producers.getOrDefault(l.name(), List.of())) {
                    Report.Layer pr = byName.get(p);
                    if (pr != null
                            && pr.entire() != null
                            && !Double.isNaN(pr.entire().cos())) {
                        before = Math.min(before, pr.entire().cos());
                    }
                }
                drop = Math.max(0, before - l.entire().cos());
            }
            Ranked r = new Ranked(l, Math.max(0, 1 - pl.cos()), drop);
            if (pl.cos() < PER_LAYER_COS) {
                byError.add(r);
            }
            if (drop > MIN_DROP) {
                byDrop.add(r);
            }
        }
        // Stable sorts keep execution order among equal values.
        byError.sort(Comparator.comparingDouble(Ranked::error).reversed());
        byDrop.sort(Comparator.comparingDouble(Ranked::drop).reversed());
        Map<String, Ranked> merged = new LinkedHashMap<>();
        for (int i = 0; merged.size() < limit && (i < byError.size() || i < byDrop.size()); i++) {
            if (i < byError.size()) {
                merged.putIfAbsent(byError.get(i).layer().name(), byError.get(i));
            }
            if (merged.size() < limit && i < byDrop.size()) {
                merged.putIfAbsent(byDrop.get(i).layer().name(), byDrop.get(i));
            }
        }
        return List.copyOf(merged.values());
    }

    private static Diagnosis diagnose(Layer l, Sources s, Map<String, Integer> weightScales, float[] values) {
        QuantizationOptions run = s.settings();
        double spread = WeightSpread.of(l, s, weightScales);
        // A run with --per-channel that still has per-tensor weights here kept them so on purpose.
        if (spread > CHANNEL_SPREAD && (run == null || !run.perChannel())) {
            return new Diagnosis(
                    String.format(
                            Locale.ROOT,
                            "weight channels of very different ranges under per-tensor"
                                    + " quantization (max|w| per output channel varies %.0fx)",
                            spread),
                    "--per-channel");
        }
        QuantParams q = l.outputQuant();
        boolean eightBit = q != null && (q.type() == DType.INT8 || q.type() == DType.UINT8);
        if (eightBit && isLookupTable(l)) {
            return new Diagnosis(
                    "a nonlinear op as a 256-entry lookup table",
                    "promote this layer to int16 (--hybrid, layer " + l.name() + ")");
        }
        String channels = outlierChannels(l, s, values);
        if (channels != null) {
            return new Diagnosis(
                    "activation outlier channels (" + channels + "), so one per-tensor scale leaves the other"
                            + " channels few codes",
                    "--smooth-quant 0.5 (moves them into the weights of the MatMul/Gemm layers reading it)");
        }
        String outliers = outliers(q, values);
        if (outliers != null) {
            return new Diagnosis("activation range dominated by outliers (" + outliers + ")", clipping(run));
        }
        return resolution(l.name(), l.precision());
    }

    /**
     * Whether the quantized program runs this layer as a lookup table: an op or fused pattern whose
     * NPU form is a LUT ({@link OpTraits}), placed on the NPU (a layer whose quantization is
     * incomplete runs its float kernel on the CPU instead).
     */
    static boolean isLookupTable(Layer l) {
        return l.placement() == Placement.NPU && OpTraits.of(l.op()).lutEligible();
    }

    /** A calibration that clips outliers, other than the one the run used. */
    static String clipping(QuantizationOptions run) {
        CalibrationAlgorithm used = run == null ? null : run.algorithm();
        if (used == CalibrationAlgorithm.PERCENTILE) {
            return String.format(
                    Locale.ROOT,
                    "calibrate with --algo mse (or a lower --percentile than %s)",
                    new java.math.BigDecimal(run.percentile())
                            .stripTrailingZeros()
                            .toPlainString());
        }
        if (used == CalibrationAlgorithm.MSE) {
            return "calibrate with --algo percentile";
        }
        return "calibrate with --algo percentile or mse";
    }

    /**
     * The precision itself as the cause, and the next step up as the fix: int8 to int16 or fp16; int16
     * and fp16 to float32 (fp16 keeps 11 significant bits, fewer than int16, so it is no step up from it).
     */
    static Diagnosis resolution(String layer, LayerPrecision p) {
        return switch (p) {
            case INT16 -> new Diagnosis("int16 resolution", "keep this layer in float32 with --hybrid (" + layer + ")");
            case FP16 ->
                new Diagnosis(
                        "fp16 rounding (11 significant bits)",
                        "keep this layer in float32 with --hybrid (" + layer + ")");
            case FLOAT32 ->
                new Diagnosis(
                        "error carried in from the layers before it (this layer runs in float32)",
                        "look at the hot spots upstream of " + layer);
            default ->
                new Diagnosis(
                        p.yamlName() + " resolution",
                        "promote this layer to int16 or fp16 with --hybrid (" + layer + ")");
        };
    }

    /**
     * The evidence of an output range wider than the values need, or null: the quantized range
     * (which always holds 0) against the 0.01..99.99 percentile range of the float values (with 0
     * added), and how many codes the central 99% of values span.
     */
    static String outliers(QuantParams q, float[] values) {
        if (q == null || !q.isPerTensor() || values == null || values.length == 0) {
            return null;
        }
        float[] v = values.clone();
        Arrays.sort(v);
        double scale = q.scale(0);
        long zp = q.zeroPoint(0);
        double lo = (q.qmin() - zp) * scale;
        double hi = (q.qmax() - zp) * scale;
        double needed = Math.max(0, quantile(v, 0.9999)) - Math.min(0, quantile(v, 0.0001));
        double central = (quantile(v, 0.995) - quantile(v, 0.005)) / scale;
        double ratio = needed > 0 ? (hi - lo) / needed : Double.POSITIVE_INFINITY;
        long codes = q.qmax() - q.qmin() + 1;
        if (ratio > OUTLIER_RATIO || (codes >= 256 && central < FEW_CODES && central > 0)) {
            return String.format(
                    Locale.ROOT,
                    "the quantized range is %.1fx the 99.99th-percentile range; 99%% of"
                            + " values use %.0f of %d codes",
                    ratio,
                    Math.ceil(central),
                    codes);
        }
        return null;
    }

    /**
     * For an activation SmoothQuant could smooth in a run that did not: which channels (last axis)
     * reach {@link #OUTLIER_CHANNEL_RATIO} times the median channel's max|x| or more, or null.
     */
    static String outlierChannels(Layer l, Sources s, float[] values) {
        if (values == null
                || s.floatProgram() == null
                || (s.settings() != null && s.settings().smoothed())) {
            return null;
        }
        Integer k = SmoothQuant.eligible(s.floatProgram().graph()).get(l.name());
        if (k == null || k < 2 || values.length % k != 0) {
            return null;
        }
        return outlierChannels(values, k);
    }

    static String outlierChannels(float[] values, int k) {
        double[] max = new double[k];
        for (int i = 0; i < values.length; i++) {
            max[i % k] = Math.max(max[i % k], Math.abs(values[i]));
        }
        double[] sorted = max.clone();
        Arrays.sort(sorted);
        double median = sorted[k / 2];
        if (median <= 0) {
            return null;
        }
        int outliers = 0;
        for (double m : max) {
            outliers += m >= OUTLIER_CHANNEL_RATIO * median ? 1 : 0;
        }
        if (outliers == 0) {
            return null;
        }
        return String.format(
                Locale.ROOT,
                "%d of %d channels reach up to %.0fx the median channel's max|x|",
                outliers,
                k,
                sorted[k - 1] / median);
    }

    private static double quantile(float[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))];
    }

    /** The float program's outputs of the ranked layers over the first few inputs; empty when it cannot run. */
    private static Map<String, float[]> floatValues(Sources s, List<Ranked> top) {
        Map<String, float[]> out = new HashMap<>();
        if (s.floatProgram() == null || s.feeds() == null || top.isEmpty()) {
            return out;
        }
        Map<String, String> wanted = new HashMap<>();
        for (Ranked r : top) {
            wanted.put(r.layer().name(), r.layer().name());
        }
        Map<String, List<float[]>> parts = new HashMap<>();
        try {
            for (Map<String, Tensor> feed :
                    s.feeds().subList(0, Math.min(EVIDENCE_INPUTS, s.feeds().size()))) {
                s.floatProgram().run(feed, (layer, v) -> {
                    for (String o : layer.outputs()) {
                        if (wanted.containsKey(o) && v.real().isFloating()) {
                            parts.computeIfAbsent(o, k -> new ArrayList<>())
                                    .add(v.real().floats());
                        }
                    }
                });
            }
        } catch (Exception e) {
            // Evidence only: without float values the outlier rule is not applied.
            return out;
        }
        for (Map.Entry<String, List<float[]>> e : parts.entrySet()) {
            int n = e.getValue().stream().mapToInt(a -> a.length).sum();
            float[] all = new float[n];
            int at = 0;
            for (float[] a : e.getValue()) {
                System.arraycopy(a, 0, all, at, a.length);
                at += a.length;
            }
            out.put(e.getKey(), all);
        }
        return out;
    }
}
