package dev.layerprobe.host.report;

import dev.layerprobe.agent.backend.OrtBackend;
import dev.layerprobe.dump.mapping.LayerMapping;
import dev.layerprobe.host.compare.InputSpread;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.simulator.profile.RequantMode;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The console's "Diagnosis:" block under the layer table: for {@code analyze}, the model verdict, the
 * runtime root cause, the quantization hot spots (or the float simulator's agreement with ONNX
 * Runtime), the spread over several inputs, the verdict, and notes on what the device's backend
 * computes differently; for {@code compare}, where B departs from A, how the layers were mapped and
 * how a vendor tool's own figures agree with ours. Everything printed comes from the {@link Report}
 * (and, for {@code analyze}, the few facts about the run it does not hold), so the console says what
 * report.json says. Not thread-safe (it writes to one {@link PrintWriter}).
 */
public final class DiagnosisPrinter {
    private final PrintWriter out;

    public DiagnosisPrinter(PrintWriter out) {
        this.out = out;
    }

    /**
     * The diagnosis of an analysis.
     *
     * @param quantizedRun whether the simulator and the device ran the quantized model (else the float model)
     * @param hostRequant how the host simulator requantized (the device profile's numerics)
     * @param inputs the analysis inputs' file names, in order
     */
    public void printAnalysis(Report r, boolean quantizedRun, RequantMode hostRequant, List<String> inputs) {
        out.println();
        out.println("Diagnosis:");
        Report.ModelVerdict model = r.summary().model();
        if (model != null) {
            out.println("  Model: " + capitalize(model.text()));
            if (model.fix() != null) {
                out.println("    Fix: " + model.fix() + (model.check() == null ? "" : "; " + checkText(model.check()))
                        + ".");
            }
        }
        Report.RuntimeFault f = r.rootCause().runtime();
        if (f != null) {
            out.println("  Runtime: the device first departs from the simulator at layer '" + f.layer() + "' (" + f.op()
                    + "): " + f.evidence() + ".");
            out.println("  Every " + (r.bisect() == null ? "layer" : "value") + " before it matches the simulator"
                    + " bit-exactly, so the device's runtime or compiler computes this layer wrongly; quantization is"
                    + " not the cause.");
        } else if (r.bisect() != null) {
            out.println("  Runtime: the device's outputs match the simulator (simu_err bit-exact).");
        } else {
            out.println("  Runtime: the device matches the simulator on every layer (simu_err bit-exact).");
        }
        printBisect(r.bisect());
        if (!quantizedRun) {
            Report.Layer worst = worst(r, Report.Layer::entire);
            if (worst != null) {
                double cos = worst.entire().cos();
                out.println(String.format(
                        Locale.ROOT,
                        "  Simulator: the float simulator %s ONNX Runtime; its lowest"
                                + " entire cos is %.7f at '%s' (%s).",
                        cos >= 0.99999 ? "matches" : "departs from",
                        cos,
                        worst.name(),
                        worst.op()));
            }
        } else {
            List<Report.HotSpot> spots = r.rootCause().quantization();
            if (spots.isEmpty()) {
                out.println("  Quantization: no hot spot; no layer's own error stands out enough for a fix of that"
                        + " layer alone to help.");
            } else {
                out.println("  Quantization hot spots (largest own error and largest entire-cos drop first):");
                for (int i = 0; i < spots.size(); i++) {
                    Report.HotSpot h = spots.get(i);
                    out.println(String.format(
                            Locale.ROOT,
                            "    %d. '%s' (%s), per_layer cos %.5f: %s; fix: %s",
                            i + 1,
                            h.layer(),
                            h.op(),
                            h.cos(),
                            h.cause(),
                            h.fix()));
                }
            }
        }
        printInputSpread(r, inputs);
        printTask(r.task());
        out.println("  Verdict: " + r.summary().verdict() + ".");
        printBackendNotes(r, quantizedRun, hostRequant);
    }

    /** For a classifier: how often the simulator and the device pick golden's class, and the accuracy with labels. */
    private void printTask(TaskSummary t) {
        if (t == null || t.top1() == null) {
            return;
        }
        StringBuilder b = new StringBuilder(String.format(
                Locale.ROOT,
                "  Task: top-1 agreement with golden: simulator %s, device %s (top-5: %s, %s)",
                percent(t.top1().simulator()),
                percent(t.top1().device()),
                percent(t.top5().simulator()),
                percent(t.top5().device())));
        TaskSummary.Accuracy a = t.accuracy();
        if (a != null) {
            b.append(String.format(
                    Locale.ROOT,
                    "; accuracy on %d labelled inputs: golden %s, simulator %s (drop %s), device %s (drop %s)",
                    a.labelled(),
                    percent(a.golden()),
                    percent(a.simulator()),
                    percent(a.simulatorDrop()),
                    percent(a.device()),
                    percent(a.deviceDrop())));
        }
        out.println(b.append('.'));
    }

    private static String percent(Double v) {
        return v == null ? "n/a" : String.format(Locale.ROOT, "%.2f%%", 100 * v);
    }

    /** How a bisection found the runtime fault: its device runs and every probe. */
    private void printBisect(Report.Bisect b) {
        if (b == null) {
            return;
        }
        out.println(String.format(
                Locale.ROOT,
                "  Bisection (%s), on %s: %d device runs (at most %d): the whole model, %d prefix models%s:",
                b.reason(),
                b.input(),
                b.deviceRuns(),
                b.maxRuns(),
                b.probes().stream()
                        .filter(p -> p.source().equals(Report.Probe.PREFIX_MODEL))
                        .count(),
                b.confirmation() != null && b.confirmation().contains("RunLayer") ? ", RunLayer" : ""));
        for (int i = 0; i < b.probes().size(); i++) {
            Report.Probe p = b.probes().get(i);
            out.println(String.format(
                    Locale.ROOT,
                    "    %d. after '%s' (%s), %d value%s: %s, cos %.5f%s%s",
                    i + 1,
                    p.after(),
                    p.op(),
                    p.values(),
                    p.values() == 1 ? "" : "s",
                    p.verdict(),
                    p.cos(),
                    p.values() == 1 ? "" : " (worst '" + p.worst() + "')",
                    p.source().equals(Report.Probe.PREFIX_MODEL) ? "" : " [" + p.source() + "]"));
        }
    }

    /** Over several inputs: how the final layer's entire cos varies, and which input is worst. */
    private void printInputSpread(Report r, List<String> inputs) {
        List<Report.Layer> layers = r.layers();
        for (int i = layers.size() - 1; i >= 0; i--) {
            Report.Layer l = layers.get(i);
            MetricResult[] metrics = {l.entire(), l.goldenErr()};
            String[] columns = {"entire", "golden_err"};
            for (int k = 0; k < metrics.length; k++) {
                MetricResult m = metrics[k];
                if (m != null && m.hasSpread()) {
                    InputSpread s = m.spread();
                    String column = columns[k];
                    String worst = s.worstInput() < inputs.size() ? inputs.get(s.worstInput()) : "#" + s.worstInput();
                    out.println(String.format(
                            Locale.ROOT,
                            "  Inputs: %d; at the last layer '%s' %s cos is %.5f"
                                    + " pooled, %.5f on average and %.5f at worst (%s); report.json has the mean and worst"
                                    + " of every layer.",
                            s.inputs(),
                            l.name(),
                            column,
                            m.cos(),
                            s.meanCos(),
                            s.worstCos(),
                            worst));
                    return;
                }
            }
        }
    }

    /** What a device running ONNX Runtime computes differently from the simulator, and how to align the two. */
    private void printBackendNotes(Report r, boolean quantizedRun, RequantMode hostRequant) {
        boolean ort = r.device() != null && OrtBackend.NAME.equals(r.device().backend());
        if (ort && quantizedRun && hostRequant != RequantMode.FLOAT) {
            // Otherwise every rounding tie the two requantizations break differently shows as a device fault.
            out.println("  Note: the device runs ONNX Runtime, whose integer kernels requantize in float; with a"
                    + " profile saying 'requant: float' (--profile) the simulator computes the same, code for code.");
        } else if (ort && !quantizedRun && r.rootCause().runtime() != null) {
            out.println("  Note: the device runs the float model in ONNX Runtime, whose float kernels round"
                    + " differently from the simulator's; at simu_err cos 1.00000 a runtime fault is that rounding"
                    + " (--atol sets what counts as equal).");
        }
    }

    /**
     * The diagnosis of a comparison of dumps.
     *
     * @param mapping how the other dump's layers were mapped onto the rows
     * @param codes whether integer codes were compared (agreement then means bit-exact)
     * @param reference what the other dump is compared with ("A", "the simulator")
     * @param other the other dump's name ("B", "runtime")
     */
    public void printComparison(Report r, LayerMapping mapping, boolean codes, String reference, String other) {
        out.println();
        out.println("Diagnosis:");
        Report.RuntimeFault f = r.rootCause().runtime();
        if (f != null) {
            out.println("  " + other + " first departs from " + reference + " at layer '" + f.layer() + "'" + opLabel(f)
                    + ": " + f.evidence() + ".");
        } else {
            out.println("  " + other + " agrees with " + reference + " on every mapped layer ("
                    + (codes
                            ? "codes bit-exact"
                            : String.format(
                                    Locale.ROOT, "cos >= %.2f", r.summary().wrongCos()))
                    + ").");
        }
        Map<LayerMapping.Method, Long> by = mapping.countByMethod();
        out.println("  Mapping: " + mapping.entries().size() + " of " + other + "'s layers mapped ("
                + by.entrySet().stream()
                        .map(e -> e.getValue() + " by " + e.getKey().label())
                        .collect(Collectors.joining(", "))
                + ")"
                + (mapping.entries().stream().anyMatch(LayerMapping.Entry::nhwc)
                        ? ", channels-last layers converted to NCHW"
                        : "")
                + ".");
        Report.Mapping m = r.mapping();
        if (!m.unmapped().isEmpty()) {
            out.println(
                    "  Unmapped layers of " + other + " (" + m.unmapped().size() + "): " + abbreviate(m.unmapped()));
        }
        if (!m.missing().isEmpty()) {
            out.println("  Layers without a value in " + other + " ("
                    + m.missing().size() + "): " + abbreviate(m.missing()));
        }
        Report.VendorSource v = m.vendor();
        if (v != null) {
            out.println("  " + v.tool() + "'s own figures (" + v.source() + ", " + v.form() + "): "
                    + v.mapped().size()
                    + " of its " + (v.mapped().size() + v.unmapped().size()) + " rows with figures mapped onto layers"
                    + (v.unmapped().isEmpty() ? "" : " (unmapped: " + abbreviate(v.unmapped()) + ")") + "; "
                    + (v.compared() - v.differences().size())
                    + " of " + v.compared() + " figures on both sides fall in the same threshold band"
                    + (v.differences().isEmpty()
                            ? "."
                            : ", they differ at: "
                                    + abbreviate(v.differences().stream()
                                            .map(d -> String.format(
                                                    Locale.ROOT,
                                                    "%s %s (ours %.5f, %s %.5f)",
                                                    d.layer(),
                                                    d.column(),
                                                    d.cos(),
                                                    v.tool(),
                                                    d.vendorCos()))
                                            .toList())));
        }
        out.println("  Verdict: " + r.summary().verdict() + ".");
    }

    /**
     * A runtime fault's op as the diagnosis and the verdict name it: {@code " (Op)"}, or nothing when
     * no dump, model or vendor table records the op.
     */
    public static String opLabel(Report.RuntimeFault f) {
        return f.op() == null || f.op().isEmpty() ? "" : " (" + f.op() + ")";
    }

    /** The quick check of the model verdict's fix in words, as printed after the fix. */
    static String checkText(Report.QuickCheck check) {
        return String.format(
                Locale.ROOT,
                "quick check on %s: with %s (same calibration) '%s' reaches entire cos %s" + " (this run: %s)",
                check.input(),
                check.what(),
                check.output(),
                ConsoleTable.cos5(check.cos()),
                ConsoleTable.cos5(check.baselineCos()));
    }

    private static Report.Layer worst(Report r, Function<Report.Layer, MetricResult> column) {
        Report.Layer worst = null;
        for (Report.Layer l : r.layers()) {
            MetricResult m = column.apply(l);
            if (m != null && (worst == null || m.cos() < column.apply(worst).cos())) {
                worst = l;
            }
        }
        return worst;
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    private static String abbreviate(List<String> names) {
        int n = Math.min(8, names.size());
        return String.join(", ", names.subList(0, n)) + (names.size() > n ? ", ... (all in report.json)" : "");
    }
}
