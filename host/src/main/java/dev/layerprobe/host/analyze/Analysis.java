package dev.layerprobe.host.analyze;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentEndpoint;
import dev.layerprobe.host.compare.InputSpread;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.dump.DumpManifest;
import dev.layerprobe.dump.DumpValues;
import dev.layerprobe.dump.DumpWriter;
import dev.layerprobe.host.golden.GoldenRunner;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputShapes;
import dev.layerprobe.host.quantize.QuantizationOptions;
import dev.layerprobe.host.quantize.Quantizer;
import dev.layerprobe.host.progress.Progress;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.proto.v1.DeviceInfo;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.RequantMode;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.HybridSpec;
import dev.layerprobe.simulator.quant.LayerPrecision;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.quant.QuantConfig;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code layerprobe analyze}: golden (ONNX Runtime) vs simulator vs device, layer by layer.
 *
 * <p>The steps: compile the float model in the simulator; calibrate; write the quantized model as
 * QDQ ONNX; compile it for the host simulator (the profile's numerics, never its faults); upload it
 * to the device (the embedded emulated agent on a loopback port when no device is given, so the
 * same gRPC path runs); then for every input run golden, the simulator (whole network and layer by
 * layer on golden inputs) and the device, comparing as the device's dumps stream in. Dumps of the
 * first input are written under {@code report/dumps/}.
 */
public final class Analysis {
    private final AnalysisOptions o;
    private final PrintWriter out;

    public Analysis(AnalysisOptions options, PrintWriter out) {
        this.o = options;
        this.out = out;
    }

    public Report run() throws Exception {
        Path model = o.model();
        ModelProto floatModel = OnnxGraphs.readModel(model);
        String modelName = model.getFileName().toString();
        DeviceProfile localProfile = o.profile() == null ? DeviceProfile.DEFAULT : DeviceProfile.load(o.profile());
        NpuProgram floatProgram = Simulator.compile(model, CompileOptions.DEFAULT);
        ValueInfo in = singleInput(floatProgram);
        int[] wanted = InputShapes.resolve(in, o.inputShapes().get(in.name()), o.size());
        for (String name : o.inputShapes().keySet()) {
            if (!name.equals(in.name())) {
                throw new InputException("--input-shape names '" + name + "', the model's input is '" + in.name() + "'");
            }
        }

        List<Map<String, Tensor>> feeds = new ArrayList<>();
        int[] shape = wanted;
        for (Path p : o.inputs()) {
            Tensor t = InputLoader.load(p, shape, o.spec());
            shape = t.shape();   // the first input fixes what was still dynamic; later ones must agree
            feeds.add(Map.of(in.name(), t));
        }
        if (!InputShapes.isStatic(in.shape())) {
            floatProgram = Simulator.compile(model, CompileOptions.DEFAULT.withInputShapes(Map.of(in.name(), shape)));
        }
        ReportFiles.prepare(o.reportDir());

        // The device is asked first: an unreachable or refusing device fails the command in seconds,
        // not after minutes of calibration and golden runs.
        try (EmbeddedDevice device = EmbeddedDevice.connect(o.device(), localProfile)) {
            AgentClient client = device.client();
            DeviceInfo info = client.info();
            return analyze(client, info, localProfile, floatModel, floatProgram, modelName, feeds);
        }
    }

    private Report analyze(AgentClient client, DeviceInfo info, DeviceProfile localProfile, ModelProto floatModel,
            NpuProgram floatProgram, String modelName, List<Map<String, Tensor>> feeds) throws Exception {
        ModelProto deviceModel;
        Path deviceModelFile;
        NpuProgram sim;
        Calibration calibration = null;
        DeviceProfile hostProfile = new DeviceProfile(localProfile.name(), localProfile.requant(), List.of(), "");
        boolean unquantized = o.quantized() == null && o.quant().precision() == LayerPrecision.FLOAT32;
        if (unquantized) {
            // The compiled float graph (shapes folded at this input size), so device and host run the same layers.
            deviceModel = OnnxGraphs.toModel(floatProgram.graph(), "layerprobe", Map.of());
            deviceModelFile = o.reportDir().resolve(stripOnnx(modelName) + ".float.onnx");
            sim = floatProgram;
        } else {
            if (o.quantized() != null) {
                deviceModel = OnnxGraphs.readModel(o.quantized());
                out.println("quantized model: " + o.quantized());
            } else {
                Quantizer quantizer = new Quantizer(out);
                List<Path> calibFiles = o.calib() == null ? o.inputs() : Quantizer.listInputs(o.calib());
                calibration = quantizer.calibrate(floatProgram, floatModel.toByteArray(), calibFiles,
                        o.spec(), o.quant());
                deviceModel = quantizer.quantize(floatProgram, calibration, o.quant());
                out.println("quantized: " + o.quant().describe());
            }
            deviceModelFile = o.reportDir().resolve(stripOnnx(modelName) + ".qdq.onnx");
            sim = Simulator.compile(deviceModel, deviceModelFile.getFileName().toString(), CompileOptions.of(hostProfile));
        }
        byte[] deviceBytes = deviceModel.toByteArray();
        Files.write(deviceModelFile, deviceBytes);
        if (!localProfile.faults().isEmpty()) {
            // Checks the profile's faults against this model's layers here, so a misspelt layer is
            // reported as the user's input error rather than as a failure of the device.
            Simulator.compile(deviceModel, deviceModelFile.getFileName().toString(), CompileOptions.of(localProfile));
        }

        Report.InputEvidence inputEvidence = sim.isQuantized() ? inputEvidence(sim, feeds) : null;

        try (GoldenRunner golden = GoldenRunner.of(floatModel, modelName)) {
            String modelId = client.upload(deviceBytes, deviceModelFile.getFileName().toString());
            List<LayerComparison> rows = new ArrayList<>();
            Map<String, LayerComparison> byName = new LinkedHashMap<>();
            for (Layer l : sim.layers()) {
                LayerComparison c = new LayerComparison(l, o.atol(), o.rtol());
                rows.add(c);
                byName.put(l.name(), c);
            }
            Path dumps = o.reportDir().resolve("dumps");
            try (Progress progress = Progress.start("analyzing", feeds.size(), out)) {
                for (int i = 0; i < feeds.size(); i++) {
                    runOne(i, feeds.get(i), golden, sim, client, modelId, byName, i == 0 ? dumps : null, modelName);
                    rows.forEach(LayerComparison::endInput);
                    progress.step();
                }
            }
            QuickCheckInputs quick = new QuickCheckInputs(calibration, floatProgram, hostProfile, feeds.get(0), dumps);
            Report report = confirmOnDevice(buildReport(modelName, info, rows, new HotSpots.Sources(sim, floatProgram,
                    deviceModel, feeds, o.quantized() == null ? o.quant() : null), inputEvidence, quick), info, client,
                    modelId, sim, feeds.get(0));
            ReportFiles.printTable(report, out);
            printDiagnosis(report, sim.isQuantized());
            if ("ort".equals(info.getBackend()) && sim.isQuantized() && hostProfile.requant() != RequantMode.FLOAT) {
                // Otherwise every rounding tie the two requantizations break differently shows as a device fault.
                out.println("  Note: the device runs ONNX Runtime, whose integer kernels requantize in float; with a"
                        + " profile saying 'requant: float' (--profile) the simulator computes the same, code for code.");
            } else if ("ort".equals(info.getBackend()) && !sim.isQuantized() && report.rootCause().runtime() != null) {
                out.println("  Note: the device runs the float model in ONNX Runtime, whose float kernels round"
                        + " differently from the simulator's; at simu_err cos 1.00000 a runtime fault is that rounding"
                        + " (--atol sets what counts as equal).");
            }
            ReportFiles.write(report, o.reportDir());
            out.println("Report: " + o.reportDir().resolve("report.json") + ", report.csv, "
                    + o.reportDir().resolve("report.html") + "; dumps in " + dumps
                    + "; " + (sim.isQuantized() ? "quantized model " : "compiled float model ")
                    + deviceModelFile);
            out.flush();
            return report;
        }
    }

    /**
     * Device-side isolation (DESIGN §2): runs the root-cause layer alone on the device and on the
     * simulator, both fed the simulator's own inputs for the first input. A difference there proves
     * the device computes the layer wrongly; agreement points back at its inputs. Backends without
     * RunLayer leave the localization from dumps alone, and the evidence says so.
     */
    private Report confirmOnDevice(Report report, DeviceInfo info, AgentClient client, String modelId, NpuProgram sim,
            Map<String, Tensor> feed) throws Exception {
        Report.RuntimeFault f = report.rootCause().runtime();
        if (f == null) {
            return report;
        }
        String evidence;
        if (!info.getCapabilitiesList().contains("run_layer")) {
            evidence = f.evidence() + "; the device's backend cannot run single layers, so this rests on the dumps alone";
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
            LayerComparison c = new LayerComparison(layer, o.atol(), o.rtol());
            c.addSimuErr(onSim, onDevice);
            MetricResult m = c.simuErr();
            if (RuntimeLocalizer.matches(m)) {
                evidence = f.evidence() + "; but RunLayer on the simulator's own inputs matches, so look at how the"
                        + " device feeds this layer";
            } else {
                evidence = f.evidence() + String.format(Locale.ROOT, "; confirmed with RunLayer: fed the simulator's"
                        + " own inputs, the device still differs (cos %.5f%s)", m.cos(),
                        m.hasCodes() ? String.format(Locale.ROOT, ", %.1f%% of codes differ", 100 * (1 - m.bitExact())) : "");
                evidence += FaultSignatures.recognise(layer, inputs, onSim, onDevice, sim).map(s -> "; " + s).orElse("");
            }
        }
        Report.RuntimeFault confirmed = new Report.RuntimeFault(f.layer(), f.op(), evidence);
        return new Report(report.model(), report.device(), report.layers(),
                new Report.RootCause(confirmed, report.rootCause().quantization()), report.summary());
    }

    /** Elements per step when layers are compared from disk. */
    private static final int STEP = 1 << 18;

    /**
     * One input through golden, the simulator and the device, in bounded memory: golden's tensors
     * are spilled to a dump on disk as ONNX Runtime hands them over, the simulator's layers are
     * compared with them a range of elements at a time as they are produced (the program frees each
     * value after its last consumer) and written to the simulator's dump, and the device's layers are
     * compared with both dumps chunk by chunk as they stream in ({@link StreamingComparison}). At any
     * time the heap holds a few layers of the simulator and one chunk of each dump, never a run.
     */
    private void runOne(int index, Map<String, Tensor> feed, GoldenRunner golden, NpuProgram sim, AgentClient client,
            String modelId, Map<String, LayerComparison> byName, Path dumps, String modelName) throws Exception {
        Path spill = Files.createTempDirectory(o.reportDir(), ".spill-");
        try {
            Path goldenAll = spill.resolve("golden");
            try (DumpWriter w = DumpWriter.create(goldenAll, modelName, "golden", true)) {
                golden.run(feed, (name, t) -> w.writeLayer(name, null, LayerValue.of(t)));
            }
            DumpValues g = DumpValues.open(goldenAll);
            Path simDir = dumps != null ? dumps.resolve("simulator") : spill.resolve("simulator");
            float[] gBuf = new float[STEP];
            float[] sBuf = new float[STEP];
            try (DumpWriter goldenDump = dumps == null ? null : DumpWriter.create(dumps.resolve("golden"), modelName, "golden", true);
                 DumpWriter simDump = DumpWriter.create(simDir, modelName, "simulator", true)) {
                sim.run(feed, (layer, v) -> {
                    LayerComparison c = byName.get(layer.name());
                    c.setShape(v.shape());
                    try {
                        DumpManifest.Layer gl = floatLayer(g, layer.name());
                        if (gl != null) {
                            checkSize(layer, gl, v);
                            if (goldenDump != null) {
                                goldenDump.beginLayer(layer.name(), layer.opLabel(), gl.shape(), DType.FLOAT32, null);
                            }
                            int size = v.codes() != null ? v.codes().size() : v.real().size();
                            for (int off = 0; off < size; off += STEP) {
                                int n = Math.min(STEP, size - off);
                                g.read(gl, off, n, gBuf, null);
                                realValues(v, off, n, sBuf);
                                c.entireMetrics().add(gBuf, 0, sBuf, 0, n);
                                if (goldenDump != null) {
                                    goldenDump.writeFloats(gBuf, 0, n);
                                }
                            }
                            if (goldenDump != null) {
                                goldenDump.endLayer();
                            }
                        }
                        simDump.writeLayer(layer.name(), layer.opLabel(), v);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
            }
            sim.runPerLayer(name -> {
                DumpManifest.Layer l = g.layer(name);
                try {
                    return l == null ? null : g.readWhole(l);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, (layer, v) -> {
                DumpManifest.Layer gl = floatLayer(g, layer.name());
                if (gl == null) {
                    return;
                }
                checkSize(layer, gl, v);
                int size = v.codes() != null ? v.codes().size() : v.real().size();
                try {
                    for (int off = 0; off < size; off += STEP) {
                        int n = Math.min(STEP, size - off);
                        g.read(gl, off, n, gBuf, null);
                        realValues(v, off, n, sBuf);
                        byName.get(layer.name()).perLayerMetrics().add(gBuf, 0, sBuf, 0, n);
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (DumpWriter runtimeDump = dumps == null ? null : DumpWriter.create(dumps.resolve("runtime"), modelName, "runtime", true)) {
                client.run(modelId, feed, DumpFormat.NATIVE, new StreamingComparison(byName, DumpValues.open(simDir), g,
                        runtimeDump));
            }
        } finally {
            deleteTree(spill);
        }
    }

    private static DumpManifest.Layer floatLayer(DumpValues dump, String name) {
        DumpManifest.Layer l = dump.layer(name);
        return l != null && "float32".equals(l.dtype()) ? l : null;
    }

    private static void checkSize(Layer layer, DumpManifest.Layer golden, LayerValue v) {
        long n = 1;
        for (int d : golden.shape()) {
            n *= d;
        }
        long m = v.codes() != null ? v.codes().size() : v.real().size();
        if (n != m) {
            throw new IllegalStateException("layer '" + layer.name() + "': reference has " + n
                    + " values, the other side " + m);
        }
    }

    /**
     * Real values {@code [off, off+n)} of a simulator value. Quantized values are dequantized a range
     * at a time rather than through {@link LayerValue#real()}, which would keep a float copy of the
     * whole layer for as long as the program holds the value.
     */
    private static void realValues(LayerValue v, int off, int n, float[] out) {
        QTensor q = v.codes();
        if (q == null) {
            System.arraycopy(v.real().floats(), off, out, 0, n);
            return;
        }
        QuantParams p = q.params();
        int[] codes = q.codes();
        if (p.isPerTensor()) {
            for (int i = 0; i < n; i++) {
                out[i] = p.dequantize(codes[off + i], 0);
            }
            return;
        }
        int[] shape = q.shape();
        long inner = 1;
        for (int d = p.axis() + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        int channels = shape[p.axis()];
        for (int i = 0; i < n; i++) {
            out[i] = p.dequantize(codes[off + i], (int) (((off + i) / inner) % channels));
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }

    private Report buildReport(String modelName, DeviceInfo info, List<LayerComparison> rows,
            HotSpots.Sources hotSpotSources, Report.InputEvidence inputEvidence, QuickCheckInputs quick) {
        List<Report.Layer> layers = ReportFiles.rows(rows);
        Report.RuntimeFault fault = RuntimeLocalizer.locate(rows);
        String verdict = fault != null
                ? "runtime fault at " + fault.layer() + " (" + fault.op() + ")"
                : "the device matches the simulator on every layer";
        Report.ModelVerdict model = judgeModel(layers, hotSpotSources, inputEvidence, quick);
        String modelSentence = model == null ? null : ModelVerdicts.sentence(model, o.warnCos(), o.wrongCos());
        if (modelSentence != null) {
            verdict = modelSentence + "; " + verdict;
        }
        List<String> faults = info.getFaultsList().stream()
                .map(f -> f.getKind() + " on " + (f.getLayer().isEmpty() ? "op " + f.getOp() : "layer " + f.getLayer()))
                .toList();
        Report.Device device = new Report.Device(info.getDevice(), info.getBackend(), info.getProfile(), faults,
                info.getVersionsMap());
        Report.Summary counts = ReportFiles.summary(layers, l -> l.goldenErr() != null ? l.goldenErr() : l.entire(),
                o.warnCos(), o.wrongCos(), verdict);
        Report.Summary summary = model == null ? counts : new Report.Summary(counts.layers(), counts.warnings(),
                counts.wrong(), counts.warnCos(), counts.wrongCos(), verdict, model.modelCase(), model);
        return new Report(modelName, device, layers,
                new Report.RootCause(fault, HotSpots.rank(layers, hotSpotSources)), summary);
    }

    /** What the quick check of a fix needs: null calibration when the run did not calibrate here. */
    private record QuickCheckInputs(Calibration calibration, NpuProgram floatProgram, DeviceProfile hostProfile,
            Map<String, Tensor> feed, Path dumps) {
    }

    /** The verdict about the quantized model ({@link ModelVerdicts}); null for a float run. */
    private Report.ModelVerdict judgeModel(List<Report.Layer> layers, HotSpots.Sources s,
            Report.InputEvidence inputEvidence, QuickCheckInputs quick) {
        if (!s.sim().isQuantized()) {
            return null;
        }
        ModelVerdicts.Figures f = ModelVerdicts.figures(layers, s.sim().outputs());
        if (f == null) {
            return null;
        }
        String modelCase = ModelVerdicts.modelCase(f, inputEvidence, o.warnCos());
        List<Report.Culprit> culprits = new ArrayList<>();
        if (ModelVerdicts.FEW_LAYERS.equals(modelCase)) {
            List<Report.HotSpot> d = HotSpots.diagnose(f.culprits().stream().map(ModelVerdicts.Share::layer).toList(), s);
            for (int i = 0; i < d.size(); i++) {
                Report.HotSpot h = d.get(i);
                culprits.add(new Report.Culprit(h.layer(), h.op(), h.cos(), f.culprits().get(i).share(), h.cause(),
                        h.fix()));
            }
        }
        Report.QuickCheck check = quickCheck(modelCase, culprits, s.sim(), quick, f.output().name());
        Report.Layer first = null;
        for (Report.Layer l : layers) {
            if (l.entire() != null) {
                first = l;
                break;
            }
        }
        return ModelVerdicts.verdict(modelCase, f, culprits, inputEvidence, first, s.settings(), check, o.warnCos(),
                o.wrongCos());
    }

    /**
     * A cheap look at what the fix reaches: the first input, the run's own calibration, the simulator
     * alone. For {@code spread_amplified} (an int8 or uint8 run): every layer in int16. For
     * {@code few_layers}: weights per channel when that is a named layer's fix and the run was per
     * tensor, else the named layers one step up (int8 to int16, int16 or fp16 to float32). Null when
     * the run did not calibrate here (a QDQ file from elsewhere), for the other cases, or when the
     * re-run fails: it is evidence, never a reason for the analysis to fail.
     */
    private Report.QuickCheck quickCheck(String modelCase, List<Report.Culprit> culprits, NpuProgram sim,
            QuickCheckInputs in, String output) {
        if (in.calibration() == null || in.feed() == null) {
            return null;
        }
        QuantizationOptions q = o.quant();
        try {
            QuantConfig config;
            Calibration calibration = in.calibration();
            String what;
            Map<String, LayerPrecision> overrides = new LinkedHashMap<>(
                    q.hybrid() == null ? Map.of() : HybridSpec.load(q.hybrid()).layers());
            if (ModelVerdicts.SPREAD.equals(modelCase)) {
                if (q.precision() != LayerPrecision.INT8 && q.precision() != LayerPrecision.UINT8) {
                    return null;
                }
                QuantizationOptions wide = new QuantizationOptions(LayerPrecision.INT16, q.perChannel(), q.algorithm(),
                        q.percentile(), null, null);
                config = Quantizer.config(wide);
                calibration = calibration.withOptions(Quantizer.calibrationOptions(wide));
                what = "every layer in int16";
            } else if (ModelVerdicts.FEW_LAYERS.equals(modelCase)) {
                if (!q.perChannel() && culprits.stream().anyMatch(c -> c.fix().equals("--per-channel"))) {
                    config = Quantizer.config(new QuantizationOptions(q.precision(), true, q.algorithm(), q.percentile(),
                            null, null)).withOverrides(overrides);
                    what = "weights per output channel (--per-channel)";
                } else {
                    List<String> promoted = new ArrayList<>();
                    for (Report.Culprit c : culprits) {
                        LayerPrecision p = sim.layer(c.layer()).map(Layer::precision).orElse(q.precision());
                        LayerPrecision up = p == LayerPrecision.INT8 || p == LayerPrecision.UINT8 ? LayerPrecision.INT16
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
            ModelProto m = QdqWriter.write(in.floatProgram(), calibration, config);
            NpuProgram p = Simulator.compile(m, "quick-check.qdq.onnx", CompileOptions.of(in.hostProfile()));
            Tensor[] got = new Tensor[1];
            p.run(in.feed(), (l, v) -> {
                if (l.name().equals(output)) {
                    got[0] = v.real();
                }
            });
            DumpValues golden = DumpValues.open(in.dumps().resolve("golden"));
            DumpValues base = DumpValues.open(in.dumps().resolve("simulator"));
            if (got[0] == null || golden.layer(output) == null || base.layer(output) == null) {
                return null;
            }
            Tensor g = golden.readWhole(golden.layer(output));
            double cos = Metrics.compare(g, got[0]).cos();
            double baseline = Metrics.compare(g, base.readWhole(base.layer(output))).cos();
            return new Report.QuickCheck(what, o.inputs().get(0).getFileName().toString(), output, cos, baseline);
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * The first analysis input that does not look like the calibration data ({@link InputFit}), with
     * the most values out of range; null when every input fits or there is nothing to compare with
     * (calibration on the inputs themselves).
     */
    private Report.InputEvidence inputEvidence(NpuProgram sim, List<Map<String, Tensor>> feeds) {
        String name = sim.inputs().get(0).name();
        InputFit.Reference reference = null;
        if (o.calib() != null) {
            try {
                List<Path> files = Quantizer.listInputs(o.calib());
                int n = Math.min(files.size(), InputFit.REFERENCE_SAMPLES);
                reference = new InputFit.Reference();
                int[] shape = feeds.get(0).get(name).shape();
                for (int i = 0; i < n; i++) {
                    // Spread over the whole set, which may be sorted by scene or source.
                    reference.add(InputLoader.load(files.get((int) ((long) i * files.size() / n)), shape, o.spec()));
                }
            } catch (InputException e) {
                reference = null;   // calibration reported its own errors; the check is evidence only
            }
        } else if (o.quantized() == null) {
            return null;            // calibrated on the inputs themselves: they fit by construction
        }
        Report.InputEvidence worst = null;
        for (int i = 0; i < feeds.size(); i++) {
            Report.InputEvidence e = InputFit.check(o.inputs().get(i).getFileName().toString(), feeds.get(i).get(name),
                    reference, sim.quantOf(name), o.spec());
            if (e != null && (worst == null || e.outsideRange() > worst.outsideRange())) {
                worst = e;
            }
        }
        return worst;
    }

    private void printDiagnosis(Report r, boolean quantizedRun) {
        out.println();
        out.println("Diagnosis:");
        Report.ModelVerdict model = r.summary().model();
        if (model != null) {
            out.println("  Model: " + capitalize(model.text()));
            if (model.fix() != null) {
                out.println("    Fix: " + model.fix() + (model.check() == null ? "" : "; "
                        + ModelVerdicts.checkText(model.check())) + ".");
            }
        }
        Report.RuntimeFault f = r.rootCause().runtime();
        if (f != null) {
            out.println("  Runtime: the device first departs from the simulator at layer '" + f.layer() + "' ("
                    + f.op() + "): " + f.evidence() + ".");
            out.println("  Every layer before it matches the simulator bit-exactly, so the device's runtime or"
                    + " compiler computes this layer wrongly; quantization is not the cause.");
        } else {
            out.println("  Runtime: the device matches the simulator on every layer (simu_err bit-exact).");
        }
        if (!quantizedRun) {
            Report.Layer worst = worst(r, Report.Layer::entire);
            if (worst != null) {
                double cos = worst.entire().cos();
                out.println(String.format(Locale.ROOT, "  Simulator: the float simulator %s ONNX Runtime; its lowest"
                        + " entire cos is %.7f at '%s' (%s).", cos >= 0.99999 ? "matches" : "departs from", cos,
                        worst.name(), worst.op()));
            }
        } else {
            List<Report.HotSpot> spots = r.rootCause().quantization();
            if (spots.isEmpty()) {
                out.println("  Quantization: no hot spot; no layer's own error stands out enough for a fix of that"
                        + " layer alone to help.");
            } else {
                out.println("  Quantization hot spots (largest own error and largest entire-cos drop first):");
                for (int i = 0; i < spots.size(); i++) {
                    Report.HotSpot h = spots.get(i);
                    out.println(String.format(Locale.ROOT, "    %d. '%s' (%s), per_layer cos %.5f: %s; fix: %s", i + 1,
                            h.layer(), h.op(), h.cos(), h.cause(), h.fix()));
                }
            }
        }
        printInputSpread(r);
        out.println("  Verdict: " + r.summary().verdict() + ".");
    }

    /** Over several inputs: how the final layer's entire cos varies, and which input is worst. */
    private void printInputSpread(Report r) {
        List<Report.Layer> layers = r.layers();
        for (int i = layers.size() - 1; i >= 0; i--) {
            Report.Layer l = layers.get(i);
            for (MetricResult m : new MetricResult[] {l.entire(), l.goldenErr()}) {
                if (m != null && m.hasSpread()) {
                    InputSpread s = m.spread();
                    String column = m == l.entire() ? "entire" : "golden_err";
                    String worst = s.worstInput() < o.inputs().size()
                            ? o.inputs().get(s.worstInput()).getFileName().toString() : "#" + s.worstInput();
                    out.println(String.format(Locale.ROOT, "  Inputs: %d; at the last layer '%s' %s cos is %.5f"
                            + " pooled, %.5f on average and %.5f at worst (%s); report.json has the mean and worst"
                            + " of every layer.", s.inputs(), l.name(), column, m.cos(), s.meanCos(), s.worstCos(),
                            worst));
                    return;
                }
            }
        }
    }

    private static Report.Layer worst(Report r, java.util.function.Function<Report.Layer, MetricResult> column) {
        Report.Layer worst = null;
        for (Report.Layer l : r.layers()) {
            MetricResult m = column.apply(l);
            if (m != null && (worst == null || m.cos() < column.apply(worst).cos())) {
                worst = l;
            }
        }
        return worst;
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    private static ValueInfo singleInput(NpuProgram p) throws SimulatorException {
        if (p.inputs().size() != 1) {
            throw new SimulatorException(SimulatorException.Code.BAD_INPUT, "the model has " + p.inputs().size()
                    + " inputs " + p.inputs().stream().map(ValueInfo::name).toList()
                    + "; analyze supports single-input models");
        }
        return p.inputs().get(0);
    }

    private static String stripOnnx(String name) {
        return name.endsWith(".onnx") ? name.substring(0, name.length() - 5) : name;
    }

    /** The device to talk to: a running agent, or one started in this process on loopback. */
    public static final class EmbeddedDevice implements AutoCloseable {
        static final int EMBEDDED_MAX_MESSAGE_BYTES = 1 << 30;

        private final AgentServer server;
        private final AgentClient client;

        private EmbeddedDevice(AgentServer server, AgentClient client) {
            this.server = server;
            this.client = client;
        }

        /** Connects to {@code target}, or starts the emulated device with {@code profile} when it is null. */
        public static EmbeddedDevice connect(AgentEndpoint target, DeviceProfile profile) throws Exception {
            if (target != null) {
                return new EmbeddedDevice(null, AgentClient.connect(target, AgentClient.Options.DEFAULT));
            }
            // Run sends the inputs in one message; this agent serves only this process, so the
            // network agent's cap on message size (a guard against strangers) would only refuse
            // large inputs here.
            AgentServer server = AgentServer.netty(AgentConfig.builder().profile(profile).bindHost("127.0.0.1").port(0)
                    .maxInboundMessageBytes(EMBEDDED_MAX_MESSAGE_BYTES).build());
            server.start();
            try {
                return new EmbeddedDevice(server, new AgentClient("127.0.0.1", server.port()));
            } catch (RuntimeException e) {
                server.close();
                throw e;
            }
        }

        public AgentClient client() {
            return client;
        }

        @Override
        public void close() {
            client.close();
            if (server != null) {
                server.close();
            }
        }
    }
}
