package dev.layerprobe.host.quantize;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.golden.GoldenRunner;
import dev.layerprobe.host.progress.Progress;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.CalibrationAlgorithm;
import dev.layerprobe.simulator.quant.LayerPrecision;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code quantize --compare-algos}: quantizes one model with every calibration algorithm, per
 * tensor and per channel (and in int16 and fp16, and per channel after SmoothQuant where the model
 * has activations it can smooth), runs each quantized model on the simulator over
 * evaluation samples, and compares the final outputs with ONNX Runtime's float run. All variants
 * share one calibration pass (histograms), so the model runs in float only once per sample.
 */
public final class AlgorithmComparison {
    /** One variant's result: its options and the final output's metrics pooled over the samples. */
    public record Row(QuantizationOptions options, MetricResult metrics) {}

    /** The model's SmoothQuant form and its calibration, for the rows with {@code --smooth-quant alpha}. */
    public record Smoothed(NpuProgram program, Calibration calibration, double alpha) {}

    private final PrintWriter out;

    public AlgorithmComparison(PrintWriter out) {
        this.out = out;
    }

    /** The variants compared: every algorithm x per-tensor/per-channel at the precision, then int16 and fp16. */
    public static List<QuantizationOptions> variants(QuantizationOptions base) {
        List<QuantizationOptions> v = new ArrayList<>();
        LayerPrecision p = base.precision().isInteger() ? base.precision() : LayerPrecision.INT8;
        for (CalibrationAlgorithm a : CalibrationAlgorithm.values()) {
            for (boolean perChannel : new boolean[] {false, true}) {
                v.add(new QuantizationOptions(p, perChannel, a, base.percentile(), base.hybrid(), null));
            }
        }
        if (p != LayerPrecision.INT16) {
            v.add(new QuantizationOptions(
                    LayerPrecision.INT16, true, CalibrationAlgorithm.MINMAX, base.percentile(), base.hybrid(), null));
        }
        v.add(new QuantizationOptions(
                LayerPrecision.FP16, false, CalibrationAlgorithm.MINMAX, base.percentile(), base.hybrid(), null));
        return v;
    }

    /** The SmoothQuant variants: every algorithm, int8 (or the integer type asked for) per channel. */
    public static List<QuantizationOptions> smoothedVariants(QuantizationOptions base, double alpha) {
        List<QuantizationOptions> v = new ArrayList<>();
        LayerPrecision p = base.precision().isInteger() ? base.precision() : LayerPrecision.INT8;
        for (CalibrationAlgorithm a : CalibrationAlgorithm.values()) {
            v.add(new QuantizationOptions(p, true, a, base.percentile(), base.hybrid(), null, alpha));
        }
        return v;
    }

    /**
     * Quantizes and scores every variant.
     *
     * @param smoothed the SmoothQuant form of the model, whose rows are added; null for none
     */
    public List<Row> run(
            NpuProgram floatProgram,
            Calibration calibration,
            Smoothed smoothed,
            ModelProto floatModel,
            String modelName,
            List<Map<String, Tensor>> evalSamples,
            QuantizationOptions base)
            throws SimulatorException, GoldenException, IOException {
        String output = floatProgram.outputs().get(0);
        List<Tensor> golden = new ArrayList<>();
        try (GoldenRunner g = GoldenRunner.of(floatModel, modelName)) {
            for (Map<String, Tensor> s : evalSamples) {
                golden.add(g.run(s).get(output));
            }
        }
        Quantizer quantizer = new Quantizer(out);
        List<QuantizationOptions> variants = new ArrayList<>(variants(base));
        if (smoothed != null) {
            variants.addAll(smoothedVariants(base, smoothed.alpha()));
        }
        List<Row> rows = new ArrayList<>();
        try (Progress progress = Progress.start("comparing", variants.size(), out)) {
            for (QuantizationOptions v : variants) {
                boolean sq = v.smoothed() && smoothed != null;
                Calibration c =
                        (sq ? smoothed.calibration() : calibration).withOptions(Quantizer.calibrationOptions(v));
                ModelProto qdq = quantizer.quantize(sq ? smoothed.program() : floatProgram, c, v);
                NpuProgram sim = Simulator.compile(qdq, modelName, CompileOptions.DEFAULT);
                Metrics m = new Metrics();
                for (int i = 0; i < evalSamples.size(); i++) {
                    Map<String, LayerValue> r = sim.run(evalSamples.get(i), LayerObserver.NONE);
                    m.add(golden.get(i).floats(), r.get(output).real().floats());
                }
                rows.add(new Row(v, m.result()));
                progress.step();
            }
        }
        return rows;
    }

    /** The variant with the highest cos (sqnr breaks ties), among those at the integer precision asked for. */
    public static Row best(List<Row> rows, LayerPrecision precision) {
        Row best = null;
        for (Row r : rows) {
            if (r.options().precision() != precision) {
                continue;
            }
            if (best == null
                    || r.metrics().cos() > best.metrics().cos()
                    || (r.metrics().cos() == best.metrics().cos()
                            && r.metrics().sqnrDb() > best.metrics().sqnrDb())) {
                best = r;
            }
        }
        return best;
    }

    public void print(List<Row> rows, LayerPrecision precision, int samples) {
        out.printf("%nfinal output vs ONNX Runtime (float) over %d calibration samples%n", samples);
        out.printf(
                "%-8s %-11s %-17s %-7s %12s %10s %10s%n",
                "dtype", "weights", "algorithm", "smooth", "cos", "sqnr_db", "max_abs");
        for (Row r : rows) {
            QuantizationOptions o = r.options();
            boolean integer = o.precision().isInteger();
            out.printf(
                    Locale.ROOT,
                    "%-8s %-11s %-17s %-7s %12.6f %10.2f %10.4g%n",
                    o.precision().yamlName(),
                    integer ? (o.perChannel() ? "per-channel" : "per-tensor") : "-",
                    integer ? algorithmLabel(o) : "-",
                    o.smoothed() ? String.valueOf(o.smoothQuant()) : "-",
                    r.metrics().cos(),
                    r.metrics().sqnrDb(),
                    r.metrics().maxAbs());
        }
        Row b = best(rows, precision);
        if (b != null) {
            out.printf(
                    Locale.ROOT,
                    "best %s: %s (cos %.6f, sqnr %.2f dB)%n",
                    precision.yamlName(),
                    "--algo " + algorithmLabel(b.options()).replace(" ", " --percentile ")
                            + (b.options().perChannel() ? " --per-channel" : " --per-tensor")
                            + (b.options().smoothed()
                                    ? " --smooth-quant " + b.options().smoothQuant()
                                    : ""),
                    b.metrics().cos(),
                    b.metrics().sqnrDb());
        }
        out.flush();
    }

    private static String algorithmLabel(QuantizationOptions o) {
        String a = o.algorithm().name().toLowerCase(Locale.ROOT);
        return o.algorithm() == CalibrationAlgorithm.PERCENTILE ? a + " " + o.percentile() : a;
    }
}
