package dev.layerprobe.host.analyze;

import dev.layerprobe.host.report.Report;
import dev.layerprobe.proto.v1.DeviceInfo;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link Report} of an analysis once every input is compared: the rows, the runtime fault
 * ({@link RuntimeLocalizer}), the verdict about the quantized model ({@link ModelVerdicts}, with its
 * culprits diagnosed by {@link HotSpots} and its fix tried by {@link QuickFixCheck}), the
 * quantization hot spots, the device and the summary. The device-side confirmation of a runtime
 * fault comes after ({@link DeviceConfirmation}). Stateless.
 */
final class AnalysisReport {
    private AnalysisReport() {}

    /**
     * @param rows the compared layers, in execution order
     * @param sources the hot-spot evidence; its program is the one the rows were compared on
     * @param inputEvidence the worst misfit of the inputs ({@link InputFit#worst}), or null
     * @param quick the quick check of the model verdict's fix
     */
    static Report build(
            String modelName,
            DeviceInfo info,
            List<LayerComparison> rows,
            HotSpots.Sources sources,
            Report.InputEvidence inputEvidence,
            QuickFixCheck quick,
            double warnCos,
            double wrongCos) {
        List<Report.Layer> layers = ReportFiles.rows(rows);
        Report.RuntimeFault fault = RuntimeLocalizer.locate(rows);
        String verdict = runtimeVerdict(fault);
        Report.ModelVerdict model = judgeModel(layers, sources, inputEvidence, quick, warnCos, wrongCos);
        String modelSentence = model == null ? null : ModelVerdicts.sentence(model, warnCos, wrongCos);
        if (modelSentence != null) {
            verdict = modelSentence + "; " + verdict;
        }
        List<String> faults = info.getFaultsList().stream()
                .map(f -> f.getKind() + " on " + (f.getLayer().isEmpty() ? "op " + f.getOp() : "layer " + f.getLayer()))
                .toList();
        Report.Device device = new Report.Device(
                info.getDevice(), info.getBackend(), info.getProfile(), faults, info.getVersionsMap());
        Report.Summary counts = ReportFiles.summary(
                layers, l -> l.goldenErr() != null ? l.goldenErr() : l.entire(), warnCos, wrongCos, verdict);
        Report.Summary summary = model == null
                ? counts
                : new Report.Summary(
                        counts.layers(),
                        counts.warnings(),
                        counts.wrong(),
                        counts.warnCos(),
                        counts.wrongCos(),
                        verdict,
                        model.modelCase(),
                        model);
        return new Report(
                modelName, device, layers, new Report.RootCause(fault, HotSpots.rank(layers, sources)), summary);
    }

    /** The device's part of the summary's verdict, given the runtime fault (or null). */
    static String runtimeVerdict(Report.RuntimeFault fault) {
        return fault != null
                ? "runtime fault at " + fault.layer() + " (" + fault.op() + ")"
                : "the device matches the simulator on every layer";
    }

    /** The verdict about the quantized model ({@link ModelVerdicts}); null for a float run. */
    private static Report.ModelVerdict judgeModel(
            List<Report.Layer> layers,
            HotSpots.Sources s,
            Report.InputEvidence inputEvidence,
            QuickFixCheck quick,
            double warnCos,
            double wrongCos) {
        if (!s.sim().isQuantized()) {
            return null;
        }
        ModelVerdicts.Figures f = ModelVerdicts.figures(layers, s.sim().outputs());
        if (f == null) {
            return null;
        }
        String modelCase = ModelVerdicts.modelCase(f, inputEvidence, warnCos);
        List<Report.Culprit> culprits = new ArrayList<>();
        if (ModelVerdicts.FEW_LAYERS.equals(modelCase)) {
            List<Report.HotSpot> d = HotSpots.diagnose(
                    f.culprits().stream().map(ModelVerdicts.Share::layer).toList(), s);
            for (int i = 0; i < d.size(); i++) {
                Report.HotSpot h = d.get(i);
                culprits.add(new Report.Culprit(
                        h.layer(), h.op(), h.cos(), f.culprits().get(i).share(), h.cause(), h.fix()));
            }
        }
        Report.QuickCheck check =
                quick.run(modelCase, culprits, s.sim(), f.output().name());
        Report.Layer first = null;
        for (Report.Layer l : layers) {
            if (l.entire() != null) {
                first = l;
                break;
            }
        }
        return ModelVerdicts.verdict(
                modelCase, f, culprits, inputEvidence, first, s.settings(), check, warnCos, wrongCos);
    }
}
