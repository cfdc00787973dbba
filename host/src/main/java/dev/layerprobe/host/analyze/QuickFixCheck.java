package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.DumpValues;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.host.quantize.QuantizationOptions;
import dev.layerprobe.host.quantize.Quantizer;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.HybridSpec;
import dev.layerprobe.simulator.quant.LayerPrecision;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.quant.QuantConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A cheap look at what the model verdict's fix reaches: the first input, the run's own calibration,
 * the simulator alone. For {@code spread_amplified} (an int8 or uint8 run): every layer in int16.
 * For {@code few_layers}: weights per channel when that is a named layer's fix and the run was per
 * tensor, else the named layers one step up (int8 to int16, int16 or fp16 to float32). Immutable.
 *
 * @param options how the run quantized
 * @param calibration the run's calibration, or null when it did not calibrate here (no check then)
 * @param floatProgram the float program the run quantized
 * @param hostProfile the host simulator's profile (numerics, no faults)
 * @param feed the first input
 * @param input the first input's file name, as the check names it
 * @param dumps the first input's dumps ({@code golden/} and {@code simulator/}), the baseline
 */
record QuickFixCheck(
        QuantizationOptions options,
        Calibration calibration,
        NpuProgram floatProgram,
        DeviceProfile hostProfile,
        Map<String, Tensor> feed,
        String input,
        Path dumps) {

    /**
     * The check of the fix for {@code modelCase}; null when the run did not calibrate here (a QDQ
     * file from elsewhere), for the other cases, or when the re-run fails: it is evidence, never a
     * reason for the analysis to fail.
     *
     * @param sim the run's quantized program (the culprits' precisions)
     * @param output the model output whose entire cos is checked
     */
    Report.QuickCheck run(String modelCase, List<Report.Culprit> culprits, NpuProgram sim, String output) {
        if (calibration == null || feed == null) {
            return null;
        }
        QuantizationOptions q = options;
        try {
            QuantConfig config;
            Calibration calib = calibration;
            String what;
            Map<String, LayerPrecision> overrides = new LinkedHashMap<>(
                    q.hybrid() == null ? Map.of() : HybridSpec.load(q.hybrid()).layers());
            if (ModelVerdicts.SPREAD.equals(modelCase)) {
                if (q.precision() != LayerPrecision.INT8 && q.precision() != LayerPrecision.UINT8) {
                    return null;
                }
                QuantizationOptions wide = new QuantizationOptions(
                        LayerPrecision.INT16, q.perChannel(), q.algorithm(), q.percentile(), null, null);
                config = Quantizer.config(wide);
                calib = calibration.withOptions(Quantizer.calibrationOptions(wide));
                what = "every layer in int16";
            } else if (ModelVerdicts.FEW_LAYERS.equals(modelCase)) {
                if (!q.perChannel() && culprits.stream().anyMatch(c -> c.fix().equals("--per-channel"))) {
                    config = Quantizer.config(new QuantizationOptions(
                                    q.precision(), true, q.algorithm(), q.percentile(), null, null))
                            .withOverrides(overrides);
                    what = "weights per output channel (--per-channel)";
                } else {
                    List<String> promoted = new ArrayList<>();
                    for (Report.Culprit c : culprits) {
                        LayerPrecision p =
                                sim.layer(c.layer()).map(Layer::precision).orElse(q.precision());
                        LayerPrecision up = p == LayerPrecision.INT8 || p == LayerPrecision.UINT8
                                ? LayerPrecision.INT16
                                : LayerPrecision.FLOAT32;
                        overrides.put(c.layer(), up);
                        promoted.add("'" + c.layer() + "' in " + up.yamlName());
                    }
                    config = Quantizer.config(q).withOverrides(overrides);
                    what = String.join(", ", promoted);
                }
            } else {
                return null;
            }
            ModelProto m = QdqWriter.write(floatProgram, calib, config);
            NpuProgram p = Simulator.compile(m, "quick-check.qdq.onnx", CompileOptions.of(hostProfile));
            Tensor[] got = new Tensor[1];
            p.run(feed, (l, v) -> {
                if (l.name().equals(output)) {
                    got[0] = v.real();
                }
            });
            DumpValues golden = DumpValues.open(dumps.resolve("golden"));
            DumpValues base = DumpValues.open(dumps.resolve("simulator"));
            if (got[0] == null || golden.layer(output) == null || base.layer(output) == null) {
                return null;
            }
            Tensor g = golden.readWhole(golden.layer(output));
            double cos = Metrics.compare(g, got[0]).cos();
            double baseline =
                    Metrics.compare(g, base.readWhole(base.layer(output))).cos();
            return new Report.QuickCheck(what, input, output, cos, baseline);
        } catch (Exception e) {
            return null;
        }
    }
}
