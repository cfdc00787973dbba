package dev.layerprobe.host.analyze;

import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.client.EmbeddedDevice;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.golden.GoldenRunner;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputShapes;
import dev.layerprobe.host.progress.Progress;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.proto.v1.DeviceInfo;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * The steps of {@code layerprobe analyze}, golden (ONNX Runtime) vs simulator vs device, layer by
 * layer: load the inputs and compile the float model at their size; ask the device first (the
 * embedded emulated agent on a loopback port when no device is given, so the same gRPC path runs);
 * calibrate and quantize, or take the user's QDQ file ({@link DeviceModel}); upload; then for every
 * input run golden, the simulator (whole network and layer by layer on golden inputs) and the
 * device, comparing as the device's dumps stream in ({@link InputRun}); build the report
 * ({@link AnalysisReport}) and confirm a runtime fault on the device ({@link DeviceConfirmation}).
 *
 * <p>Writes the device's model and the first input's dumps under the report folder, and prints only
 * progress (calibration, the quantization used, inputs analyzed); the table, the diagnosis and the
 * report files are the caller's ({@link Analysis}). One run per instance at a time; not thread-safe.
 */
public final class AnalysisPipeline {
    private final AnalysisOptions o;
    private final PrintWriter out;
    /** Inputs analyzed at once when they fit in memory together (the device's default limit of runs). */
    private static final int IN_FLIGHT = 2;

    private final IntConsumer inputDone;
    private final long memoryBudget;

    public AnalysisPipeline(AnalysisOptions options, PrintWriter out) {
        this(options, out, i -> {});
    }

    /**
     * @param inputDone told each input's index, in input order on the calling thread, when that
     *     input's comparisons have joined the rows (a benchmark times the inputs with it)
     */
    public AnalysisPipeline(AnalysisOptions options, PrintWriter out, IntConsumer inputDone) {
        this(options, out, inputDone, Runtime.getRuntime().maxMemory() / 4);
    }

    /**
     * @param memoryBudget bytes of golden's and the simulator's values an input may keep in memory
     *     (default a quarter of the heap: the rest is the program's working set, buffers and the
     *     report); a larger run goes through disk ({@link InputRun})
     */
    AnalysisPipeline(AnalysisOptions options, PrintWriter out, IntConsumer inputDone, long memoryBudget) {
        this.o = options;
        this.out = out;
        this.inputDone = inputDone;
        this.memoryBudget = memoryBudget;
    }

    /**
     * Runs every step.
     *
     * @throws InputException for inputs, input shapes or a report folder that cannot be used
     * @throws LayerProbeException when the simulator cannot compile or run the model, or a profile is bad
     * @throws GoldenException when ONNX Runtime cannot run the float model
     * @throws AgentException when the device cannot be reached or fails
     * @throws AgentSetupException when the embedded device refuses its configuration
     * @throws IOException when the report folder cannot be written
     */
    public AnalysisResult run()
            throws InputException, LayerProbeException, GoldenException, AgentException, AgentSetupException,
                    IOException {
        Path model = o.model();
        ModelProto floatModel = OnnxGraphs.readModel(model);
        String modelName = model.getFileName().toString();
        DeviceProfile localProfile = o.profile() == null ? DeviceProfile.DEFAULT : DeviceProfile.load(o.profile());
        NpuProgram floatProgram = Simulator.compile(model, CompileOptions.DEFAULT);
        ValueInfo in = singleInput(floatProgram);
        int[] wanted = InputShapes.resolve(in, o.inputShapes().get(in.name()), o.size());
        for (String name : o.inputShapes().keySet()) {
            if (!name.equals(in.name())) {
                throw new InputException(
                        "--input-shape names '" + name + "', the model's input is '" + in.name() + "'");
            }
        }

        List<Map<String, Tensor>> feeds = new ArrayList<>();
        int[] shape = wanted;
        for (Path p : o.inputs()) {
            Tensor t = InputLoader.load(p, shape, o.spec());
            shape = t.shape(); // the first input fixes what was still dynamic; later ones must agree
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

    private AnalysisResult analyze(
            AgentClient client,
            DeviceInfo info,
            DeviceProfile localProfile,
            ModelProto floatModel,
            NpuProgram floatProgram,
            String modelName,
            List<Map<String, Tensor>> feeds)
            throws SimulatorException, InputException, GoldenException, AgentException, IOException {
        DeviceModel deviceModel = DeviceModel.prepare(o, out, floatModel, floatProgram, modelName, localProfile);
        NpuProgram sim = deviceModel.sim();
        Report.InputEvidence inputEvidence = sim.isQuantized() ? InputFit.worst(o, sim, feeds) : null;
        List<String> inputs =
                o.inputs().stream().map(p -> p.getFileName().toString()).toList();

        try (GoldenRunner golden = GoldenRunner.of(floatModel, modelName)) {
            String modelId = client.upload(
                    deviceModel.bytes(), deviceModel.file().getFileName().toString());
            List<LayerComparison> rows = new ArrayList<>();
            Map<String, LayerComparison> byName = new LinkedHashMap<>();
            for (Layer l : sim.layers()) {
                LayerComparison c = new LayerComparison(l, o.atol(), o.rtol());
                rows.add(c);
                byName.put(l.name(), c);
            }
            Path dumps = o.reportDir().resolve("dumps");
            try (InputRun run = new InputRun(
                            o.reportDir(),
                            modelName,
                            golden,
                            deviceModel.goldenDivisors(),
                            sim,
                            client,
                            modelId,
                            byName,
                            memoryBudget);
                    Progress progress = Progress.start("analyzing", feeds.size(), out)) {
                ExecutorService pool = Executors.newFixedThreadPool(IN_FLIGHT, r -> {
                    Thread t = new Thread(r, "layerprobe-analyze");
                    t.setDaemon(true);
                    return t;
                });
                Deque<Future<?>> pending = new ArrayDeque<>();
                int next = 0; // the next input to report done
                try {
                    for (int i = 0; i < feeds.size(); i++) {
                        Map<String, Tensor> feed = feeds.get(i);
                        Path keep = i == 0 ? dumps : null;
                        // Several inputs at once only on the embedded device, which takes as many runs
                        // as are in flight, and only when their values fit in memory together.
                        int inFlight = o.device() == null && run.fitsInMemory(IN_FLIGHT) ? IN_FLIGHT : 1;
                        if (keep != null || !run.fitsInMemory(1)) {
                            inFlight = 1;
                        }
                        while (pending.size() >= inFlight) {
                            awaitInput(pending.removeFirst());
                            inputDone.accept(next++);
                            progress.step();
                        }
                        int input = i;
                        pending.addLast(pool.submit(() -> {
                            run.run(input, feed, keep);
                            return null;
                        }));
                    }
                    while (!pending.isEmpty()) {
                        awaitInput(pending.removeFirst());
                        inputDone.accept(next++);
                        progress.step();
                    }
                } finally {
                    pool.shutdownNow();
                }
            }
            QuickFixCheck quick = new QuickFixCheck(
                    o.quant(),
                    deviceModel.calibration(),
                    floatProgram,
                    deviceModel.hostProfile(),
                    feeds.get(0),
                    inputs.get(0),
                    dumps);
            HotSpots.Sources sources = new HotSpots.Sources(
                    sim, floatProgram, deviceModel.model(), feeds, o.quantized() == null ? o.quant() : null);
            Report report = AnalysisReport.build(
                    modelName, info, rows, sources, inputEvidence, quick, o.warnCos(), o.wrongCos());
            String bisect = BisectLocalization.reason(o, info, rows, sim);
            report = bisect == null
                    ? DeviceConfirmation.confirm(report, info, client, modelId, sim, feeds.get(0), o.atol(), o.rtol())
                    : BisectLocalization.localize(
                            report,
                            bisect,
                            info,
                            client,
                            modelId,
                            deviceModel,
                            rows,
                            feeds.get(0),
                            inputs.get(0),
                            feeds.size(),
                            o.atol(),
                            o.rtol());
            return new AnalysisResult(
                    report, sim.isQuantized(), deviceModel.hostProfile().requant(), inputs, dumps, deviceModel.file());
        }
    }

    /** Waits for an input's run and rethrows its failure as it was thrown. */
    private static void awaitInput(Future<?> f)
            throws IOException, GoldenException, SimulatorException, AgentException {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted waiting for an input's analysis");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException x) {
                throw x;
            }
            if (c instanceof GoldenException x) {
                throw x;
            }
            if (c instanceof SimulatorException x) {
                throw x;
            }
            if (c instanceof AgentException x) {
                throw x;
            }
            if (c instanceof RuntimeException x) {
                throw x;
            }
            throw new IllegalStateException(c);
        }
    }

    private static ValueInfo singleInput(NpuProgram p) throws SimulatorException {
        if (p.inputs().size() != 1) {
            throw new SimulatorException(
                    SimulatorException.Code.BAD_INPUT,
                    "the model has " + p.inputs().size()
                            + " inputs "
                            + p.inputs().stream().map(ValueInfo::name).toList()
                            + "; analyze supports single-input models");
        }
        return p.inputs().get(0);
    }
}
