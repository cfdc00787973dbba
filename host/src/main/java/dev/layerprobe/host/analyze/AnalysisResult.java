package dev.layerprobe.host.analyze;

import dev.layerprobe.host.report.Report;
import dev.layerprobe.simulator.profile.RequantMode;
import java.nio.file.Path;
import java.util.List;

/**
 * What an {@link AnalysisPipeline} produced: the {@link Report}, and the facts about the run that the
 * console's diagnosis and closing line need besides it. Immutable.
 *
 * @param report the comparisons, the root causes and the verdict
 * @param quantized whether the simulator and the device ran the quantized model (else the float model)
 * @param hostRequant how the host simulator requantized (the device profile's numerics)
 * @param inputs the inputs' file names, in the order of the analysis (an input spread names the worst by position)
 * @param dumps the folder of the first input's golden, simulator and runtime dumps
 * @param deviceModel the file of the model the device ran (QDQ, or the compiled float model)
 */
public record AnalysisResult(
        Report report, boolean quantized, RequantMode hostRequant, List<String> inputs, Path dumps, Path deviceModel) {
    public AnalysisResult {
        inputs = List.copyOf(inputs);
    }
}
