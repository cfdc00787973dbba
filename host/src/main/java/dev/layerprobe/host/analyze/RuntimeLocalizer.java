package dev.layerprobe.host.analyze;

import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.simulator.Layer;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Finds the runtime fault (docs/architecture.md#three-results-four-comparisons): the first layer in execution order whose device output
 * departs from the simulator while every producer of its inputs matches. A quantized layer matches
 * when its codes are bit-exact; a float layer when its values agree to cos ≥ {@code floatCos} and
 * within the allclose tolerance.
 */
final class RuntimeLocalizer {
    private static final double FLOAT_COS = 0.99999;

    private RuntimeLocalizer() {}

    static boolean matches(MetricResult simuErr) {
        if (simuErr == null) {
            return true;
        }
        if (simuErr.hasCodes()) {
            return simuErr.bitExact() >= 1.0;
        }
        return simuErr.maxAbs() == 0 || (simuErr.cos() >= FLOAT_COS && simuErr.allclose() >= 1.0);
    }

    /** The root cause, or null when the device matches the simulator everywhere. */
    static Report.RuntimeFault locate(List<LayerComparison> rows) {
        return locate(rows, LayerComparison::simuErr, RuntimeLocalizer::matches, (r, s) -> evidence(r.layer, s));
    }

    /**
     * The first row in execution order whose {@code column} does not match while the rows producing
     * its inputs all do (rows without a value there count as matching), or null.
     *
     * @param evidence the sentence for the found row and its column's metrics
     */
    static Report.RuntimeFault locate(
            List<LayerComparison> rows,
            Function<LayerComparison, MetricResult> column,
            Predicate<MetricResult> matches,
            BiFunction<LayerComparison, MetricResult, String> evidence) {
        Map<String, LayerComparison> byOutput = new HashMap<>();
        for (LayerComparison r : rows) {
            for (String o : r.layer.outputs()) {
                byOutput.put(o, r);
            }
        }
        for (LayerComparison r : rows) {
            MetricResult s = column.apply(r);
            if (s == null || matches.test(s)) {
                continue;
            }
            boolean inputsMatch = true;
            for (String in : r.layer.inputs()) {
                LayerComparison p = byOutput.get(in);
                MetricResult pm = p == null ? null : column.apply(p);
                if (pm != null && !matches.test(pm)) {
                    inputsMatch = false;
                }
            }
            if (inputsMatch) {
                return new Report.RuntimeFault(r.layer.name(), r.layer.op(), evidence.apply(r, s));
            }
        }
        return null;
    }

    static String evidence(Layer layer, MetricResult s) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "simu_err cos %.5f", s.cos()));
        if (s.hasCodes()) {
            b.append(String.format(
                    Locale.ROOT, ", %.1f%% of codes differ (up to %d LSB)", 100 * (1 - s.bitExact()), s.maxLsb()));
        } else {
            b.append(String.format(Locale.ROOT, ", max |diff| %.4g", s.maxAbs()));
        }
        b.append(", while ");
        b.append(
                layer.inputs().isEmpty()
                        ? "it has no inputs"
                        : layer.inputs().size() == 1
                                ? "its input matches the simulator exactly"
                                : "all its inputs match the simulator exactly");
        if (!layer.attributes().isEmpty()) {
            b.append("; ")
                    .append(layer.opLabel())
                    .append(' ')
                    .append(layer.attributes().entrySet().stream()
                            .map(e -> e.getKey() + "=" + e.getValue())
                            .collect(Collectors.joining(" ")));
        }
        return b.toString();
    }
}
