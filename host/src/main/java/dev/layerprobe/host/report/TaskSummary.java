package dev.layerprobe.host.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * What the analysis means for the model's task, over every input: for a classifier, how often the
 * simulator and the device pick golden's class, and with labels the accuracy of each side; for any
 * model, how the output's per-input cos is distributed and which inputs are worst. Immutable.
 *
 * @param output the model output the figures are about
 * @param inputs inputs analyzed
 * @param classes the classifier's number of classes, or null when the output is not a classifier's
 *     scores (shape {@code [C]} or {@code [1, C]}, C &gt; 1)
 * @param top1 how often the simulator's and the device's best class is golden's; null without classes
 * @param top5 how often golden's best class is among the simulator's and the device's five best;
 *     null without classes
 * @param accuracy accuracy against the labels; null without labels or classes
 * @param histogram the per-input output cos in bins
 * @param worst the worst inputs by the output's cos (the device's, else the simulator's), worst first
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TaskSummary(
        String output,
        int inputs,
        Integer classes,
        Agreement top1,
        Agreement top5,
        Accuracy accuracy,
        Histogram histogram,
        List<InputResult> worst) {
    public TaskSummary {
        worst = List.copyOf(worst);
    }

    /**
     * A fraction of the inputs per side, each null when that side has no values.
     *
     * @param simulator the simulator's agreement with golden
     * @param device the device's agreement with golden
     */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Agreement(Double simulator, Double device) {}

    /**
     * Accuracy of each side against the labels (fractions of the labelled inputs), and what
     * quantization and the device cost.
     *
     * @param labelled inputs that have a label
     * @param golden golden's top-1 accuracy
     * @param simulator the simulator's, null when it has no values
     * @param device the device's, null when it has no values
     * @param simulatorDrop {@code golden - simulator}
     * @param deviceDrop {@code golden - device}
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Accuracy(
            int labelled, double golden, Double simulator, Double device, Double simulatorDrop, Double deviceDrop) {}

    /**
     * Counts of inputs by their output cos, in the bins {@link #BINS} names, best first.
     *
     * @param simulator counts of golden vs simulator cos
     * @param device counts of golden vs device cos (all zero without a device column)
     */
    public record Histogram(List<String> bins, List<Integer> simulator, List<Integer> device) {
        /** The bins' names: the first six are cos from 0.99999, 0.9999, 0.999, 0.99, 0.9 and 0 up to the bin before, then cos &lt; 0, then NaN. */
        public static final List<String> BINS =
                List.of(">=0.99999", "0.9999-0.99999", "0.999-0.9999", "0.99-0.999", "0.9-0.99", "0-0.9", "<0", "nan");

        /** Lower edges of the first six bins (inclusive). */
        private static final double[] EDGES = {0.99999, 0.9999, 0.999, 0.99, 0.9, 0.0};

        public Histogram {
            bins = List.copyOf(bins);
            simulator = List.copyOf(simulator);
            device = List.copyOf(device);
        }

        /** The bin of a cos. */
        public static int bin(double cos) {
            if (Double.isNaN(cos)) {
                return BINS.size() - 1;
            }
            for (int i = 0; i < EDGES.length; i++) {
                if (cos >= EDGES[i]) {
                    return i;
                }
            }
            return EDGES.length;
        }
    }
}
