package dev.layerprobe.host.report;

import dev.layerprobe.host.compare.MetricResult;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one input of an analysis came to, kept for every input however many there are, so it
 * holds no tensor: the model output's cos on each side, the classes the three sides ranked highest
 * when the model is a classifier, and the first layer where the device (or, without it, the
 * simulator) fell below the wrong threshold. Immutable.
 *
 * @param index the input's position in the whole run's sorted inputs, from 0
 * @param file the input's file name
 * @param agent which device ran the input: empty for the embedded device
 * @param label the input's class from {@code --labels}, or null
 * @param goldenTop golden's five highest-scoring classes, best first; null when the output is not a
 *     classifier's scores
 * @param simulatorTop the simulator's, as {@code goldenTop}
 * @param deviceTop the device's, as {@code goldenTop}
 * @param simulatorCos the output's cos, golden vs simulator ({@code entire}); null when not compared
 * @param deviceCos the output's cos, golden vs device ({@code golden_err}); null when not compared
 * @param simuErrCos the output's cos, simulator vs device ({@code simu_err}); null when not compared
 * @param firstWrong the first layer, in execution order, whose cos is below the wrong threshold
 *     (the device's column where there is one, else the simulator's); null when none is
 */
public record InputResult(
        int index,
        String file,
        String agent,
        Integer label,
        int[] goldenTop,
        int[] simulatorTop,
        int[] deviceTop,
        Double simulatorCos,
        Double deviceCos,
        Double simuErrCos,
        String firstWrong) {

    /** The output's cos that says what the user gets: the device's, else the simulator's; null when neither. */
    public Double finalCos() {
        return deviceCos != null ? deviceCos : simulatorCos;
    }

    /** The same result as run by another device. */
    public InputResult withAgent(String agentName) {
        return new InputResult(
                index,
                file,
                agentName,
                label,
                goldenTop,
                simulatorTop,
                deviceTop,
                simulatorCos,
                deviceCos,
                simuErrCos,
                firstWrong);
    }

    /**
     * For report.json, in this order: {@code index, file, agent}, then {@code label} and the top-1
     * and top-5 classes of each side when known, the three cosines (NaN as null, as in
     * {@link MetricResult#toMap()}) and {@code first_wrong}.
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("index", index);
        m.put("file", file);
        m.put("agent", agent);
        if (label != null) {
            m.put("label", label);
        }
        top(m, "golden", goldenTop);
        top(m, "simulator", simulatorTop);
        top(m, "device", deviceTop);
        m.put("simulator_cos", simulatorCos == null ? null : MetricResult.json(simulatorCos));
        m.put("device_cos", deviceCos == null ? null : MetricResult.json(deviceCos));
        m.put("simu_err_cos", simuErrCos == null ? null : MetricResult.json(simuErrCos));
        m.put("first_wrong", firstWrong);
        return m;
    }

    private static void top(Map<String, Object> m, String side, int[] top) {
        if (top != null) {
            m.put(side + "_top1", top.length == 0 ? null : top[0]);
            m.put(side + "_top5", top);
        }
    }
}
