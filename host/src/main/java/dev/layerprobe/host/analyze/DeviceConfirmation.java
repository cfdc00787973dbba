package dev.layerprobe.host.analyze;

import dev.layerprobe.agent.backend.Capability;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.proto.v1.DeviceInfo;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.SimulatorException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Device-side isolation of a runtime fault: runs the root-cause layer alone on the device and on the
 * simulator, both fed the simulator's own inputs for the first input. A difference there proves the
 * device computes the layer wrongly; agreement points back at its inputs. Backends without
 * {@link Capability#RUN_LAYER} leave the localization from dumps alone, and the evidence says so.
 * Stateless; the client's thread-safety applies.
 */
final class DeviceConfirmation {
    private DeviceConfirmation() {}

    /**
     * The report with the runtime fault's evidence completed; the report itself when it has no
     * runtime fault.
     *
     * @param modelId the device's id of the model {@code sim} was compiled from
     * @param feed the first input, which the dumps were written for
     */
    static Report confirm(
            Report report,
            DeviceInfo info,
            AgentClient client,
            String modelId,
            NpuProgram sim,
            Map<String, Tensor> feed,
            double atol,
            double rtol)
            throws AgentException, SimulatorException {
        Report.RuntimeFault f = report.rootCause().runtime();
        if (f == null) {
            return report;
        }
        String evidence;
        if (!info.getCapabilitiesList().contains(Capability.RUN_LAYER.wireName())) {
            evidence =
                    f.evidence() + "; the device's backend cannot run single layers, so this rests on the dumps alone";
        } else {
            Layer layer = sim.layer(f.layer()).orElseThrow();
            Map<String, Tensor> inputs = new LinkedHashMap<>();
            for (String in : layer.inputs()) {
                if (feed.containsKey(in)) {
                    inputs.put(in, feed.get(in));
                }
            }
            sim.run(feed, (l, v) -> {
                for (String o : l.outputs()) {
                    if (layer.inputs().contains(o)) {
                        inputs.put(o, v.real());
                    }
                }
            });
            LayerValue onDevice = client.runLayer(modelId, f.layer(), inputs);
            LayerValue onSim = sim.runLayer(f.layer(), inputs);
            LayerComparison c = new LayerComparison(layer, atol, rtol);
            c.addSimuErr(onSim, onDevice);
            MetricResult m = c.simuErr();
            if (RuntimeLocalizer.matches(m)) {
                evidence = f.evidence() + "; but RunLayer on the simulator's own inputs matches, so look at how the"
                        + " device feeds this layer";
            } else {
                evidence = f.evidence()
                        + String.format(
                                Locale.ROOT,
                                "; confirmed with RunLayer: fed the simulator's"
                                        + " own inputs, the device still differs (cos %.5f%s)",
                                m.cos(),
                                m.hasCodes()
                                        ? String.format(
                                                Locale.ROOT, ", %.1f%% of codes differ", 100 * (1 - m.bitExact()))
                                        : "");
                evidence += FaultSignatures.recognise(layer, inputs, onSim, onDevice, sim)
                        .map(s -> "; " + s)
                        .orElse("");
            }
        }
        Report.RuntimeFault confirmed = new Report.RuntimeFault(f.layer(), f.op(), evidence);
        return new Report(
                report.model(),
                report.device(),
                report.layers(),
                new Report.RootCause(confirmed, report.rootCause().quantization()),
                report.summary());
    }
}
