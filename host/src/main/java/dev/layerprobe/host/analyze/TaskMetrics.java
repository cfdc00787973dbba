package dev.layerprobe.host.analyze;

import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.report.InputResult;
import dev.layerprobe.host.report.TaskSummary;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The task-level figures of an analysis: each input's {@link InputResult} from its own
 * comparisons, and over every input the {@link TaskSummary}.
 *
 * <p>Conventions: a side's class is its highest score (ties: the lower class index; NaN scores are
 * never chosen); top-1 agreement is the fraction of inputs where a side's class is golden's, top-5
 * agreement where golden's class is among the side's five highest; accuracy is top-1 against the
 * label, over the labelled inputs; a drop is golden's accuracy minus the side's. An input's output
 * cos is the device's ({@code golden_err}) where there is one, else the simulator's
 * ({@code entire}); the worst inputs are those with the lowest (NaN lowest of all, then by position).
 * Stateless.
 */
final class TaskMetrics {
    /** How many worst inputs the summary lists. */
    static final int WORST = 10;

    private static final int TOP = 5;

    private TaskMetrics() {}

    /**
     * One input's result from its own comparisons.
     *
     * @param rows the input's own comparisons, in execution order
     * @param output the model output's values, or null
     * @param outputName the model's one output, or null when it has several
     */
    static InputResult result(
            int position,
            String file,
            Integer label,
            List<LayerComparison> rows,
            OutputCapture output,
            String outputName,
            double wrongCos) {
        Double simulatorCos = null;
        Double deviceCos = null;
        Double simuErrCos = null;
        String firstWrong = null;
        for (LayerComparison c : rows) {
            MetricResult golden = c.goldenErr();
            MetricResult last = golden != null ? golden : c.entire();
            if (firstWrong == null && last != null && !(last.cos() >= wrongCos)) {
                firstWrong = c.layer.name();
            }
            if (c.layer.name().equals(outputName)) {
                simulatorCos = cos(c.entire());
                deviceCos = cos(golden);
                simuErrCos = cos(c.simuErr());
            }
        }
        boolean classifier = output != null && output.classifier();
        return new InputResult(
                position,
                file,
                "",
                label,
                classifier ? OutputCapture.top(output.golden(), TOP) : null,
                classifier ? OutputCapture.top(output.simulator(), TOP) : null,
                classifier ? OutputCapture.top(output.device(), TOP) : null,
                simulatorCos,
                deviceCos,
                simuErrCos,
                firstWrong);
    }

    private static Double cos(MetricResult m) {
        return m == null ? null : m.cos();
    }

    /**
     * The summary over every input, in input order.
     *
     * @param outputName the model's one output, or null when it has several
     * @param classes the classifier's classes, or 0 when the output is not a classifier's scores
     */
    static TaskSummary summary(List<InputResult> inputs, String outputName, int classes) {
        TaskSummary.Agreement top1 = null;
        TaskSummary.Agreement top5 = null;
        TaskSummary.Accuracy accuracy = null;
        if (classes > 0) {
            top1 = new TaskSummary.Agreement(
                    agreement(inputs, InputResult::simulatorTop, 1), agreement(inputs, InputResult::deviceTop, 1));
            top5 = new TaskSummary.Agreement(
                    agreement(inputs, InputResult::simulatorTop, TOP), agreement(inputs, InputResult::deviceTop, TOP));
            accuracy = accuracy(inputs);
        }
        List<Integer> sim = zeros();
        List<Integer> dev = zeros();
        for (InputResult r : inputs) {
            if (r.simulatorCos() != null) {
                int b = TaskSummary.Histogram.bin(r.simulatorCos());
                sim.set(b, sim.get(b) + 1);
            }
            if (r.deviceCos() != null) {
                int b = TaskSummary.Histogram.bin(r.deviceCos());
                dev.set(b, dev.get(b) + 1);
            }
        }
        List<InputResult> worst = inputs.stream()
                .filter(r -> r.finalCos() != null)
                .sorted(Comparator.comparingDouble((InputResult r) -> {
                            double c = r.finalCos();
                            return Double.isNaN(c) ? Double.NEGATIVE_INFINITY : c;
                        })
                        .thenComparingInt(InputResult::index))
                .limit(WORST)
                .toList();
        return new TaskSummary(
                outputName,
                inputs.size(),
                classes > 0 ? classes : null,
                top1,
                top5,
                accuracy,
                new TaskSummary.Histogram(TaskSummary.Histogram.BINS, sim, dev),
                worst);
    }

    private static List<Integer> zeros() {
        List<Integer> z = new ArrayList<>();
        for (int i = 0; i < TaskSummary.Histogram.BINS.size(); i++) {
            z.add(0);
        }
        return z;
    }

    /** The fraction of inputs where golden's class is among the side's first {@code k}; null when the side has none. */
    private static Double agreement(
            List<InputResult> inputs, java.util.function.Function<InputResult, int[]> side, int k) {
        int n = 0;
        int agree = 0;
        for (InputResult r : inputs) {
            int[] g = r.goldenTop();
            int[] s = side.apply(r);
            if (g == null || g.length == 0 || s == null) {
                continue;
            }
            n++;
            for (int i = 0; i < Math.min(k, s.length); i++) {
                if (s[i] == g[0]) {
                    agree++;
                    break;
                }
            }
        }
        return n == 0 ? null : (double) agree / n;
    }

    private static TaskSummary.Accuracy accuracy(List<InputResult> inputs) {
        int labelled = 0;
        int golden = 0;
        int sim = 0;
        int dev = 0;
        boolean hasSim = false;
        boolean hasDev = false;
        for (InputResult r : inputs) {
            if (r.label() == null || r.goldenTop() == null) {
                continue;
            }
            labelled++;
            golden += hits(r.goldenTop(), r.label());
            if (r.simulatorTop() != null) {
                hasSim = true;
                sim += hits(r.simulatorTop(), r.label());
            }
            if (r.deviceTop() != null) {
                hasDev = true;
                dev += hits(r.deviceTop(), r.label());
            }
        }
        if (labelled == 0) {
            return null;
        }
        double g = (double) golden / labelled;
        Double s = hasSim ? (double) sim / labelled : null;
        Double d = hasDev ? (double) dev / labelled : null;
        return new TaskSummary.Accuracy(labelled, g, s, d, s == null ? null : g - s, d == null ? null : g - d);
    }

    private static int hits(int[] top, int label) {
        return top.length > 0 && top[0] == label ? 1 : 0;
    }
}
