package dev.layerprobe.host.analyze;

import static dev.layerprobe.host.report.ConsoleTable.cos5;

import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.quantize.QuantizationOptions;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.simulator.quant.LayerPrecision;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The verdict about the quantized model itself: is its output right against float, and if not, why?
 * The device's verdict (does it compute what the simulator computes) is separate; this one reads only
 * the {@code entire} and {@code per_layer} columns.
 *
 * <p>Figures, all from the report's rows, pooled over the inputs:
 * <ul>
 *   <li>the <b>output</b>: of the graph outputs, the one with the lowest {@code entire} cos;</li>
 *   <li>a layer's <b>own error</b>: its {@code per_layer} rel_euc ε = ‖simulator − golden‖ / ‖golden‖ with
 *       the layer fed golden inputs;</li>
 *   <li><b>the layers' error</b> √(Σ ε²) over every layer with a per_layer value: what the output's
 *       rel_euc would be if each layer's own error reached the output unchanged, the errors adding as
 *       independent noise;</li>
 *   <li><b>amplification</b>: the output's {@code entire} rel_euc over the layers' error. About 1 means
 *       the errors merely add up; above {@link #AMPLIFIES} the network amplifies them on their way to the
 *       output (a chain of layers with gain above one, as in deep networks without normalisation).</li>
 * </ul>
 *
 * <p>The case, in this order:
 * <ol>
 *   <li>{@code input}: {@link InputFit} finds that an input does not look like the calibration data
 *       (whatever the output's cos: such a run measures the quantization on data it was not made for);</li>
 *   <li>{@code ok}: the output's entire cos is at least {@code --warn-cos};</li>
 *   <li>{@code few_layers}: the layers whose own error counts ({@link HotSpots#significant}) hold at
 *       least {@link #FEW_SHARE} of Σ ε², with at most {@link HotSpots#LIMIT} of them;</li>
 *   <li>{@code spread_amplified}: otherwise; no single layer is to blame.</li>
 * </ol>
 * Stateless.
 */
final class ModelVerdicts {
    /** The named layers of {@code few_layers} hold at least this share of Σ ε². */
    static final double FEW_SHARE = 0.5;
    /** An amplification above this is reported as amplification rather than accumulation. */
    static final double AMPLIFIES = 2;

    static final String OK = "ok";
    static final String INPUT = "input";
    static final String FEW_LAYERS = "few_layers";
    static final String SPREAD = "spread_amplified";

    private ModelVerdicts() {}

    /**
     * The figures of a report's rows.
     *
     * @param output the output row judged
     * @param layersRelErr √(Σ ε²), NaN without per_layer values
     * @param worst the row with the largest own error, or null
     * @param culprits the rows whose own error counts, largest share first, with their shares
     * @param culpritShare the summed share of the culprits
     * @param layerCount rows with a per_layer value
     */
    record Figures(
            Report.Layer output,
            double layersRelErr,
            Report.Layer worst,
            List<Share> culprits,
            double culpritShare,
            int layerCount) {
        double amplification() {
            return layersRelErr > 0 ? output.entire().relEuc() / layersRelErr : Double.NaN;
        }

        double outputCos() {
            return output.entire().cos();
        }
    }

    /** A row and its share of Σ ε². */
    record Share(Report.Layer layer, double share) {}

    /** The figures, or null when no output row has an entire column. */
    static Figures figures(List<Report.Layer> layers, Collection<String> outputs) {
        Report.Layer out = null;
        for (Report.Layer l : layers) {
            if (outputs.contains(l.name())
                    && l.entire() != null
                    && !Double.isNaN(l.entire().cos())
                    && (out == null || l.entire().cos() < out.entire().cos())) {
                out = l;
            }
        }
        if (out == null) {
            for (int i = layers.size() - 1; i >= 0 && out == null; i--) {
                Report.Layer l = layers.get(i);
                if (l.entire() != null && !Double.isNaN(l.entire().cos())) {
                    out = l;
                }
            }
        }
        if (out == null) {
            return null;
        }
        double sum = 0;
        int n = 0;
        Report.Layer worst = null;
        for (Report.Layer l : layers) {
            double e = ownError(l);
            if (Double.isNaN(e)) {
                continue;
            }
            sum += e * e;
            n++;
            if (worst == null || e > ownError(worst)) {
                worst = l;
            }
        }
        List<Share> culprits = new ArrayList<>();
        double share = 0;
        for (Report.Layer l : HotSpots.significant(layers)) {
            double s = sum > 0 ? Math.pow(ownError(l), 2) / sum : 0;
            culprits.add(new Share(l, s));
        }
        culprits.sort(Comparator.comparingDouble(Share::share).reversed());
        if (culprits.size() > HotSpots.LIMIT) {
            culprits = new ArrayList<>(culprits.subList(0, HotSpots.LIMIT));
        }
        for (Share s : culprits) {
            share += s.share();
        }
        return new Figures(out, n > 0 ? Math.sqrt(sum) : Double.NaN, worst, culprits, share, n);
    }

    /** A row's own error, its per_layer rel_euc; NaN without one. */
    static double ownError(Report.Layer l) {
        MetricResult m = l.perLayer();
        return m == null || Double.isNaN(m.relEuc()) || Double.isInfinite(m.relEuc()) ? Double.NaN : m.relEuc();
    }

    /** The case of the class comment. */
    static String modelCase(Figures f, Report.InputEvidence input, double warnCos) {
        if (input != null) {
            return INPUT;
        }
        if (f.outputCos() >= warnCos) {
            return OK;
        }
        return !f.culprits().isEmpty() && f.culpritShare() >= FEW_SHARE ? FEW_LAYERS : SPREAD;
    }

    /**
     * The verdict in words and figures.
     *
     * @param culprits the {@code few_layers} layers with cause and fix (empty for other cases)
     * @param first the first layer's row, whose entire cos shows loss already at the input, or null
     * @param settings how the run quantized, or null for a QDQ file made elsewhere
     * @param check the quick re-run, or null
     */
    static Report.ModelVerdict verdict(
            String modelCase,
            Figures f,
            List<Report.Culprit> culprits,
            Report.InputEvidence input,
            Report.Layer first,
            QuantizationOptions settings,
            Report.QuickCheck check,
            double warnCos,
            double wrongCos) {
        Report.Layer out = f.output();
        String head = headline(f, warnCos, wrongCos);
        String text;
        String fix;
        switch (modelCase) {
            case INPUT -> {
                String firstCos = first != null
                                && first.entire() != null
                                && first.entire().cos() < warnCos
                        ? String.format(
                                Locale.ROOT,
                                "; the first layer '%s' already has entire cos %s",
                                first.name(),
                                cos5(first.entire().cos()))
                        : "";
                text = head + "; the input " + input.input() + " does not look like what the model was calibrated"
                        + " on: " + input.evidence() + (input.likely() != null ? "; likely " + input.likely() : "")
                        + firstCos + ".";
                fix = "check the preprocessing first: 'layerprobe check-input' asks which preprocessing the device's"
                        + " first layer agrees with, and a run with --dtype fp16 or --dtype float32 separates the"
                        + " preprocessing from the quantization (the order RKNN's and TI's guides recommend); if the"
                        + " preprocessing is right, calibrate on images like this input";
            }
            case FEW_LAYERS -> {
                List<String> named = new ArrayList<>();
                for (Report.Culprit c : culprits) {
                    named.add(String.format(
                            Locale.ROOT,
                            "'%s' (%s, per_layer cos %s, %.0f%%: %s)",
                            c.layer(),
                            c.op(),
                            cos5(c.cos()),
                            100 * c.share(),
                            c.cause()));
                }
                text = String.format(
                        Locale.ROOT,
                        "%s; %s of the error the layers make by themselves: %s.",
                        head,
                        culprits.size() == 1
                                ? "one layer makes " + pct(f.culpritShare())
                                : culprits.size() + " layers make " + pct(f.culpritShare()),
                        String.join(", ", named));
                List<String> fixes = new ArrayList<>();
                for (Report.Culprit c : culprits) {
                    if (!fixes.contains(c.fix())) {
                        fixes.add(c.fix());
                    }
                }
                fix = String.join("; ", fixes);
            }
            case SPREAD -> {
                Report.Layer w = f.worst();
                double amp = f.amplification();
                double vsWorst = out.entire().relEuc() / ownError(w);
                text = String.format(
                        Locale.ROOT,
                        "%s; no single layer is to blame: every layer's own error is small"
                                + " (the largest, '%s', per_layer cos %s, relative error %.3g), but %s: the output's"
                                + " relative error %.3g is %.1fx what all %d layers' own errors add up to (%.3g) and %.0fx the"
                                + " largest.",
                        head,
                        w.name(),
                        cos5(w.perLayer().cos()),
                        ownError(w),
                        amp > AMPLIFIES ? "the network amplifies them" : "they add up over the network",
                        out.entire().relEuc(),
                        amp,
                        f.layerCount(),
                        f.layersRelErr(),
                        vsWorst);
                if (!f.culprits().isEmpty()) {
                    // Hot spots may still be worth fixing; they just do not explain the output.
                    boolean one = f.culprits().size() == 1;
                    text += String.format(
                            Locale.ROOT,
                            " %s whose own error stands out (%s) make%s only %s of the"
                                    + " layers' own error: worth fixing, but %s not explain the output.",
                            one ? "The one layer" : "The layers",
                            String.join(
                                    ", ",
                                    f.culprits().stream()
                                            .map(c -> "'" + c.layer().name() + "'")
                                            .toList()),
                            one ? "s" : "",
                            pct(f.culpritShare()),
                            one ? "it does" : "they do");
                }
                fix = spreadFix(settings);
            }
            default -> {
                text = head + ".";
                fix = null;
            }
        }
        List<Report.Culprit> named = FEW_LAYERS.equals(modelCase) ? culprits : List.of();
        Report.Layer w = f.worst();
        return new Report.ModelVerdict(
                modelCase,
                out.name(),
                out.entire().cos(),
                out.entire().relEuc(),
                finite(f.layersRelErr()),
                finite(f.amplification()),
                w == null ? null : w.name(),
                w == null ? null : w.perLayer().cos(),
                w == null ? null : finite(ownError(w)),
                named,
                INPUT.equals(modelCase) ? input : null,
                check,
                text,
                fix);
    }

    /** The model's part of the one-sentence verdict, or null when its case is {@code ok}. */
    static String sentence(Report.ModelVerdict v, double warnCos, double wrongCos) {
        String head = String.format(
                Locale.ROOT,
                "the quantized model is %s at its output '%s' (entire cos %s)",
                v.outputCos() < wrongCos ? "wrong" : "off",
                v.output(),
                cos5(v.outputCos()));
        return switch (v.modelCase()) {
            case INPUT ->
                (v.outputCos() < warnCos ? head + ", and the input" : "the input") + " does not look like"
                        + " the calibration data"
                        + (v.input().likely() != null ? " (likely " + v.input().likely() + ")" : "");
            case FEW_LAYERS ->
                head + ": "
                        + (v.layers().size() == 1
                                ? "one layer makes "
                                : v.layers().size() + " layers make ") + "most of the error ("
                        + String.join(
                                ", ",
                                v.layers().stream()
                                        .map(c -> "'" + c.layer() + "'")
                                        .toList()) + ")";
            case SPREAD ->
                head
                        + String.format(
                                Locale.ROOT,
                                ": the loss is spread over the network%s, no single" + " layer is to blame",
                                v.amplification() != null && v.amplification() > AMPLIFIES
                                        ? String.format(Locale.ROOT, " and amplified %.1fx", v.amplification())
                                        : "");
            default -> null;
        };
    }

    private static String headline(Figures f, double warnCos, double wrongCos) {
        Report.Layer out = f.output();
        double cos = out.entire().cos();
        if (cos < wrongCos) {
            return String.format(
                    Locale.ROOT,
                    "the quantized model is wrong at its output '%s': entire cos %s, below" + " --wrong-cos %s",
                    out.name(),
                    cos5(cos),
                    trim(wrongCos));
        }
        if (cos < warnCos) {
            return String.format(
                    Locale.ROOT,
                    "the quantized model is off at its output '%s': entire cos %s, below" + " --warn-cos %s",
                    out.name(),
                    cos5(cos),
                    trim(warnCos));
        }
        return String.format(
                Locale.ROOT, "the quantized model keeps its output '%s' at entire cos %s", out.name(), cos5(cos));
    }

    /** What more precision for the whole network means for the run's own settings. */
    private static String spreadFix(QuantizationOptions settings) {
        LayerPrecision p = settings == null ? LayerPrecision.INT8 : settings.precision();
        if (p == LayerPrecision.INT16 || p == LayerPrecision.FP16) {
            return "the whole network needs more precision than " + p.yamlName() + " gives: keep the layers where"
                    + " entire falls fastest (nearest the output) in float32 with --hybrid";
        }
        return "give the whole network more precision: --dtype int16 for every layer, or 'layerprobe propose-hybrid"
                + " MODEL --calib DIR --target-cos C' for the fewest layers in int16 that reach cos C; promoting any"
                + " one layer cannot help";
    }

    private static String pct(double share) {
        return String.format(Locale.ROOT, "%.0f%%", 100 * share);
    }

    private static String trim(double v) {
        return Double.toString(v).replaceAll("\\.?0+$", "");
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
