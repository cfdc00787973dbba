package dev.layerprobe.host.analyze;

import dev.layerprobe.agent.backend.Capability;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.analyze.bisect.Bisection;
import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.proto.v1.DeviceInfo;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.SimulatorException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The runtime fault of an analysis found by bisection ({@link Bisection}) rather than from the
 * device's dumps: when the user asks for it ({@code --bisect}), or when the device dumps no layers
 * (it does not advertise {@link Capability#NATIVE_DUMPS} and its run reported nothing but the
 * model's outputs, so localization from dumps would blame the output layer). The probes run on the
 * first input; the layer found is confirmed on the device as a fault found in dumps is
 * ({@link DeviceConfirmation}), and the report lists the probes and counts the device runs.
 * Stateless.
 */
final class BisectLocalization {
    private BisectLocalization() {}

    /** Why this analysis bisects, or null when the device's dumps localize the fault. */
    static String reason(AnalysisOptions o, DeviceInfo info, List<LayerComparison> rows, NpuProgram sim) {
        if (o.bisect()) {
            return "--bisect";
        }
        if (info.getCapabilitiesList().contains(Capability.NATIVE_DUMPS.wireName())) {
            return null;
        }
        for (LayerComparison r : rows) {
            if (r.simuErr() != null && !isOutput(r.layer, sim)) {
                return null; // the device dumped layers after all, in its own format
            }
        }
        return "the device reports only the model's outputs";
    }

    /**
     * The report with its runtime fault found by bisection, confirmed, and the bisection attached.
     *
     * @param modelId the device's id of the whole model {@code model.sim()} was compiled from
     * @param feed the first input
     * @param inputs the number of inputs analyzed: with one, the whole model's run is the search's
     *     first probe; with more, the rows pool every input and the first is probed anew
     */
    static Report localize(
            Report report,
            String reason,
            DeviceInfo info,
            AgentClient client,
            String modelId,
            DeviceModel model,
            List<LayerComparison> rows,
            Map<String, Tensor> feed,
            String input,
            int inputs,
            double atol,
            double rtol)
            throws AgentException, SimulatorException {
        NpuProgram sim = model.sim();
        Bisection.Judge judge = new Bisection.Judge() {
            @Override
            public MetricResult compare(Layer layer, LayerValue s, LayerValue d) {
                LayerComparison c = new LayerComparison(layer, atol, rtol);
                c.addSimuErr(s, d);
                return c.simuErr();
            }

            @Override
            public boolean matches(MetricResult m) {
                return RuntimeLocalizer.matches(m);
            }
        };
        Bisection bisection =
                new Bisection(model.model(), model.file().getFileName().toString(), sim, client, feed, judge);
        Map<String, MetricResult> whole = null;
        if (inputs == 1) {
            whole = new HashMap<>();
            for (LayerComparison r : rows) {
                if (r.simuErr() != null && isOutput(r.layer, sim)) {
                    whole.put(r.layer.name(), r.simuErr());
                }
            }
        }
        Bisection.Outcome found = bisection.search(whole);
        int runs = 1 + found.prefixRuns(); // the whole model's run of this input, then the prefixes
        int maxRuns = bisection.maxProbes() + 2 + (whole == null ? 1 : 0);
        Report.RuntimeFault fault = null;
        String confirmation = null;
        if (found.layer() != null) {
            Layer l = found.layer();
            String evidence = RuntimeLocalizer.evidence(l, found.metric())
                    + "; found by bisection: the prefix model that ends just before it matches the simulator";
            Report located = withRuntime(report, new Report.RuntimeFault(l.name(), l.op(), evidence));
            Report confirmed = DeviceConfirmation.confirm(located, info, client, modelId, sim, feed, atol, rtol);
            fault = confirmed.rootCause().runtime();
            confirmation = fault.evidence().substring(evidence.length()).replaceFirst("^; ", "");
            if (info.getCapabilitiesList().contains(Capability.RUN_LAYER.wireName())) {
                runs++;
            }
        }
        return withRuntime(report, fault)
                .withBisect(new Report.Bisect(
                        reason,
                        input,
                        fault == null ? null : fault.layer(),
                        runs,
                        maxRuns,
                        found.probes(),
                        confirmation));
    }

    /** {@code report} with {@code fault} as its runtime root cause and in its verdict. */
    private static Report withRuntime(Report report, Report.RuntimeFault fault) {
        Report.Summary s = report.summary();
        String old = AnalysisReport.runtimeVerdict(report.rootCause().runtime());
        String now = AnalysisReport.runtimeVerdict(fault);
        if (fault == null) {
            now = "the device's outputs match the simulator";
        }
        String verdict =
                s.verdict().endsWith(old) ? s.verdict().substring(0, s.verdict().length() - old.length()) + now : now;
        return new Report(
                report.model(),
                report.device(),
                report.layers(),
                new Report.RootCause(fault, report.rootCause().quantization()),
                new Report.Summary(
                        s.layers(),
                        s.warnings(),
                        s.wrong(),
                        s.warnCos(),
                        s.wrongCos(),
                        verdict,
                        s.modelCase(),
                        s.model()),
                report.mapping(),
                report.inputs(),
                report.task(),
                report.bisect());
    }

    private static boolean isOutput(Layer l, NpuProgram sim) {
        return sim.outputs().contains(l.name()) || l.outputs().stream().anyMatch(sim.outputs()::contains);
    }
}
