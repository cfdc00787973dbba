package dev.layerprobe.host.compare;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How one comparison varies across the inputs of an analysis: each input's own cos, summarised as
 * their mean and the worst (lowest; NaN counts as worst) with its position in the inputs. Sits next
 * to the pooled statistics of {@link MetricResult}, which weigh every element of every input alike.
 * Immutable.
 *
 * @param inputs     how many inputs contributed
 * @param meanCos    the mean of the per-input cosines
 * @param worstCos   the lowest per-input cosine
 * @param worstInput the position (from 0, in the order the inputs were given) of the worst input
 */
public record InputSpread(int inputs, double meanCos, double worstCos, int worstInput) {

    /** {@code inputs}, {@code cos_mean}, {@code cos_worst}, {@code worst_input}, JSON-safe. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("inputs", inputs);
        m.put("cos_mean", MetricResult.json(meanCos));
        m.put("cos_worst", MetricResult.json(worstCos));
        m.put("worst_input", worstInput);
        return m;
    }
}
