package dev.layerprobe.host.analyze;

import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.client.DeviceFarm;
import dev.layerprobe.host.client.EmbeddedDevice;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.golden.GoldenRunner;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputShapes;
import dev.layerprobe.host.progress.Progress;
import dev.layerprobe.host.report.InputResult;
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
import java.nio.file.Files;
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
 * layer: compile the float model at the first input's size; ask the device first (the embedded
 * emulated agent on a loopback port when no device is given, so the same gRPC path runs); calibrate
 * and quantize, or take the user's QDQ file ({@link DeviceModel}); upload; then for every input,
 * loaded as its turn comes, run golden, the simulator (whole network and layer by layer on golden
 * inputs) and the device, comparing as the device's dumps stream in ({@link InputRun}) into rows of
 * the input's own, recorded in the report folder's state as the input finishes ({@link RunState});
 * pool the records in input order ({@link InputRecords}), build the report ({@link AnalysisReport},
 * with the evidence that needs input tensors taken from a bounded {@link InputSample}), confirm a
 * runtime fault on the device ({@link DeviceConfirmation}) and add each input's result and the task
 * figures ({@link TaskMetrics}). Memory holds a few inputs in flight and each input's compact result,
 * whatever the number of inputs.
 *
 * <p>Writes the device's model, the state and the dumps asked for under the report folder, and
 * prints only progress (calibration, the quantization used, inputs analyzed); the table, the
 * diagnosis and the report files are the caller's ({@link Analysis}). One run per instance at a
 * time; not thread-safe.
 */
public final class AnalysisPipeline {
    private final AnalysisOptions o;
    private final DatasetOptions d;
    private final PrintWriter out;
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
        this(options, DatasetOptions.DEFAULT, out, inputDone);
    }

    /** @param dataset how the inputs are gone over (dumps, labels, resume, slice) */
    public AnalysisPipeline(AnalysisOptions options, DatasetOptions dataset, PrintWriter out, IntConsumer inputDone) {
        this(options, dataset, out, inputDone, Runtime.getRuntime().maxMemory() / 4);
    }

    /**
     * @param memoryBudget bytes of golden's and the simulator's values an input may keep in memory
     *     (default a quarter of the heap: the rest is the program's working set, buffers and the
     *     report); a larger run goes through disk ({@link InputRun})
     */
    AnalysisPipeline(AnalysisOptions options, PrintWriter out, IntConsumer inputDone, long memoryBudget) {
        this(options, DatasetOptions.DEFAULT, out, inputDone, memoryBudget);
    }

    AnalysisPipeline(
            AnalysisOptions options,
            DatasetOptions dataset,
            PrintWriter out,
            IntConsumer inputDone,
            long memoryBudget) {
        this.o = options;
        this.d = dataset;
        this.out = out;
        this.inputDone = inputDone;
        this.memoryBudget = memoryBudget;
    }

    /**
     * Runs every step: the inputs of this run's slice that its state does not hold yet, then, unless
     * a slice was asked for, the report.
     *
     * @return the analysis, or for a slice ({@link DatasetOptions#shard()}) a result without a report
     * @throws InputException for inputs, input shapes, labels, a state to resume or a report folder
     *     that cannot be used
     * @throws LayerProbeException when the simulator cannot compile or run the model, or a profile is bad
     * @throws GoldenException when ONNX Runtime cannot run the float model
     * @throws AgentException when the device cannot be reached or fails
     * @throws AgentSetupException when the embedded device refuses its configuration
     * @throws IOException when the report folder cannot be written
     */
    public AnalysisResult run()
            throws InputException, LayerProbeException, GoldenException, AgentException, AgentSetupException,
                    IOException {
        return execute(null);
    }

    /**
     * Runs the inputs and builds the report; with {@code merged}, runs no input and builds the
     * report from the finished inputs of other runs' states ({@link ShardMerge}).
     *
     * @param merged every input's record, by position, or null to run the inputs
     */
    AnalysisResult execute(Map<Integer, RunState.Location> merged)
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
        if (o.inputs().isEmpty()) {
            throw new InputException("no inputs given");
        }
        // The first input fixes what was still dynamic; later ones must agree. Inputs are loaded one
        // at a time as they run, never all at once.
        int[] shape = InputLoader.load(o.inputs().get(0), wanted, o.spec()).shape();
        if (!InputShapes.isStatic(in.shape())) {
            floatProgram = Simulator.compile(model, CompileOptions.DEFAULT.withInputShapes(Map.of(in.name(), shape)));
        }
        List<Integer> labels = d.labels() == null ? null : Labels.of(d.labels(), o.inputs());
        ReportFiles.prepare(o.reportDir());
        if (d.resume()) {
            // Refused in seconds, not after calibration: no state to resume, or another run's.
            RunState.checkResume(
                    o.reportDir(),
                    new RunState.Header(RunState.key(o, d), o.inputs().size(), d.shard(), null));
        }
        InputSample sample = InputSample.load(o.inputs(), in.name(), shape, o.spec());

        // The device is asked first: an unreachable or refusing device fails the command in seconds,
        // not after minutes of calibration and golden runs.
        try (EmbeddedDevice embedded = o.devices().isEmpty() ? EmbeddedDevice.connect(null, localProfile) : null;
                DeviceFarm devices = embedded != null
                        ? DeviceFarm.of(embedded.client())
                        : DeviceFarm.connect(o.devices(), AgentClient.Options.DEFAULT)) {
            devices.onLoss(out::println);
            DeviceInfo info = devices.info();
            return analyze(
                    devices,
                    info,
                    localProfile,
                    floatModel,
                    floatProgram,
                    modelName,
                    in.name(),
                    shape,
                    sample,
                    labels,
                    merged);
        }
    }

    private AnalysisResult analyze(
            DeviceFarm devices,
            DeviceInfo info,
            DeviceProfile localProfile,
            ModelProto floatModel,
            NpuProgram floatProgram,
            String modelName,
            String inputName,
            int[] shape,
            InputSample sample,
            List<Integer> labels,
            Map<Integer, RunState.Location> merged)
            throws SimulatorException, InputException, GoldenException, AgentException, IOException {
        DeviceModel deviceModel = DeviceModel.prepare(o, out, floatModel, floatProgram, modelName, localProfile);
        NpuProgram sim = deviceModel.sim();
        Report.InputEvidence inputEvidence =
                sim.isQuantized() ? InputFit.worst(o, sim, sample.names(), sample.feeds()) : null;
        List<String> inputs =
                o.inputs().stream().map(p -> p.getFileName().toString()).toList();
        String outputName = sim.outputs().size() == 1 ? sim.outputs().get(0) : null;
        Path dumps = o.reportDir().resolve("dumps");

        try (GoldenRunner golden = GoldenRunner.of(floatModel, modelName)) {
            String modelId = devices.upload(
                    deviceModel.bytes(), deviceModel.file().getFileName().toString());
            try (InputRun run = new InputRun(
                    o.reportDir(),
                    modelName,
                    golden,
                    deviceModel.goldenDivisors(),
                    sim,
                    devices,
                    modelId,
                    memoryBudget)) {
                Map<Integer, RunState.Location> done = merged;
                if (done == null) {
                    RunState.Header header = new RunState.Header(
                            RunState.key(o, d), o.inputs().size(), d.shard(), o.withReportDir(null));
                    try (RunState state = RunState.open(o.reportDir(), header, d, d.resume())) {
                        runInputs(run, devices, state, sim, inputName, shape, outputName, labels);
                    }
                    if (d.shard() != null) {
                        return new AnalysisResult(
                                null,
                                sim.isQuantized(),
                                deviceModel.hostProfile().requant(),
                                inputs,
                                dumps,
                                deviceModel.file());
                    }
                    done = RunState.locations(o.reportDir());
                }
                InputRecords.Pooled pooled = InputRecords.pool(done, o.inputs().size(), () -> rows(sim));
                Path baseline = dumpsAsked(run, sim, pooled.inputs(), inputName, shape);
                try {
                    QuickFixCheck quick = new QuickFixCheck(
                            o.quant(),
                            deviceModel.calibration(),
                            floatProgram,
                            deviceModel.hostProfile(),
                            sample.first(),
                            inputs.get(0),
                            baseline);
                    HotSpots.Sources sources = new HotSpots.Sources(
                            sim,
                            floatProgram,
                            deviceModel.model(),
                            sample.feeds(),
                            o.quantized() == null ? o.quant() : null);
                    Report report = AnalysisReport.build(
                            modelName, info, pooled.rows(), sources, inputEvidence, quick, o.warnCos(), o.wrongCos());
                    String bisect = BisectLocalization.reason(o, info, pooled.rows(), sim);
                    report = bisect == null
                            ? DeviceConfirmation.confirm(
                                    report, info, devices.anyClient(), modelId, sim, sample.first(), o.atol(), o.rtol())
                            : BisectLocalization.localize(
                                    report,
                                    bisect,
                                    info,
                                    devices.anyClient(),
                                    modelId,
                                    deviceModel,
                                    pooled.rows(),
                                    sample.first(),
                                    inputs.get(0),
                                    o.inputs().size(),
                                    o.atol(),
                                    o.rtol());
                    report = report.withInputs(
                            pooled.inputs(),
                            TaskMetrics.summary(pooled.inputs(), outputName, classes(pooled, outputName)));
                    return new AnalysisResult(
                            report,
                            sim.isQuantized(),
                            deviceModel.hostProfile().requant(),
                            inputs,
                            dumps,
                            deviceModel.file());
                } finally {
                    if (!baseline.startsWith(dumps)) {
                        InputRecords.deleteTree(baseline);
                    }
                }
            }
        }
    }

    /**
     * Runs every input of this run's slice that the state does not hold yet, recording each as it
     * finishes, in input order.
     */
    private void runInputs(
            InputRun run,
            DeviceFarm devices,
            RunState state,
            NpuProgram sim,
            String inputName,
            int[] shape,
            String outputName,
            List<Integer> labels)
            throws IOException, GoldenException, SimulatorException, AgentException, InputException {
        List<Integer> todo = new ArrayList<>();
        for (int i = 0; i < o.inputs().size(); i++) {
            if ((d.shard() == null || d.shard().owns(i)) && !state.isDone(i)) {
                todo.add(i);
            }
        }
        if (state.doneCount() > 0) {
            out.println("Resuming: " + state.doneCount() + " inputs done, " + todo.size() + " to go");
            out.flush();
        }
        try (Progress progress = Progress.start("analyzing", todo.size(), out)) {
            // As many inputs at once as the devices take runs, when their values fit in memory together.
            ExecutorService pool = Executors.newFixedThreadPool(devices.capacity(), r -> {
                Thread t = new Thread(r, "layerprobe-analyze");
                t.setDaemon(true);
                return t;
            });
            Deque<Future<InputRecords.Finished>> pending = new ArrayDeque<>();
            try {
                for (int position : todo) {
                    Path keep = d.dumps().keeps(position) ? dumpsOf(position) : null;
                    int inFlight = 1;
                    while (keep == null && inFlight < devices.capacity() && run.fitsInMemory(inFlight + 1)) {
                        inFlight++;
                    }
                    while (pending.size() >= inFlight) {
                        finish(awaitInput(pending.removeFirst()), state, progress);
                    }
                    Map<String, Tensor> feed =
                            Map.of(inputName, InputLoader.load(o.inputs().get(position), shape, o.spec()));
                    Integer label = labels == null ? null : labels.get(position);
                    pending.addLast(pool.submit(() -> {
                        List<LayerComparison> own = rows(sim);
                        OutputCapture output = outputName == null ? null : new OutputCapture(outputName);
                        String device = run.run(feed, keep, byName(own), output);
                        InputResult r = TaskMetrics.result(
                                position,
                                o.inputs().get(position).getFileName().toString(),
                                label,
                                own,
                                output,
                                outputName,
                                o.wrongCos());
                        // Which agent ran it, when agents were given; the embedded device has no name.
                        if (!o.devices().isEmpty()) {
                            r = r.withAgent(device);
                        }
                        return new InputRecords.Finished(r, own);
                    }));
                }
                while (!pending.isEmpty()) {
                    finish(awaitInput(pending.removeFirst()), state, progress);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private void finish(InputRecords.Finished f, RunState state, Progress progress) throws IOException {
        state.append(f.result(), f.rows());
        inputDone.accept(f.result().index());
        progress.step();
    }

    /**
     * Runs again, keeping their dumps, the inputs asked for whose dumps the report folder lacks (the
     * worst input, or inputs another process ran); returns the first input's dumps, the baseline of
     * the quick check: under {@code dumps} when kept, else a temporary folder the caller removes.
     */
    private Path dumpsAsked(InputRun run, NpuProgram sim, List<InputResult> results, String inputName, int[] shape)
            throws IOException, GoldenException, SimulatorException, AgentException, InputException {
        java.util.SortedSet<Integer> wanted = new java.util.TreeSet<>();
        for (int i = 0; i < o.inputs().size(); i++) {
            if (d.dumps().keeps(i)) {
                wanted.add(i);
            }
        }
        if (d.dumps().kind() == DatasetOptions.Dumps.Kind.WORST) {
            TaskMetrics.summary(results, null, 0).worst().stream().findFirst().ifPresent(r -> wanted.add(r.index()));
        }
        for (int p : wanted) {
            Path dir = dumpsOf(p);
            if (!Files.isDirectory(dir.resolve("runtime"))) {
                dumpInput(run, sim, p, inputName, shape, dir);
            }
        }
        if (wanted.contains(0)) {
            return dumpsOf(0);
        }
        Path baseline = Files.createTempDirectory(o.reportDir(), ".baseline-");
        dumpInput(run, sim, 0, inputName, shape, baseline);
        return baseline;
    }

    private void dumpInput(InputRun run, NpuProgram sim, int position, String inputName, int[] shape, Path dir)
            throws IOException, GoldenException, SimulatorException, AgentException, InputException {
        Map<String, Tensor> feed = Map.of(inputName, InputLoader.load(o.inputs().get(position), shape, o.spec()));
        // The comparisons were recorded when the input first ran; this run only writes its dumps.
        run.run(feed, dir, byName(rows(sim)), null);
    }

    /** Where an input's dumps go: {@code dumps/} for the first input by default, else {@code dumps/input-<position>/}. */
    private Path dumpsOf(int position) {
        Path dumps = o.reportDir().resolve("dumps");
        return d.dumps().kind() == DatasetOptions.Dumps.Kind.FIRST ? dumps : dumps.resolve("input-" + position);
    }

    /** The classifier's classes, from the output's shape; 0 when it is not a classifier's scores or none was kept. */
    private static int classes(InputRecords.Pooled pooled, String outputName) {
        boolean scores = pooled.inputs().stream().anyMatch(r -> r.goldenTop() != null);
        for (LayerComparison c : pooled.rows()) {
            int[] s = c.shape();
            if (scores && c.layer.name().equals(outputName) && s != null) {
                return s[s.length - 1];
            }
        }
        return 0;
    }

    /** Fresh rows for one input (or a pool), in execution order. */
    private List<LayerComparison> rows(NpuProgram sim) {
        List<LayerComparison> rows = new ArrayList<>();
        for (Layer l : sim.layers()) {
            rows.add(new LayerComparison(l, o.atol(), o.rtol()));
        }
        return rows;
    }

    private static Map<String, LayerComparison> byName(List<LayerComparison> rows) {
        Map<String, LayerComparison> m = new LinkedHashMap<>();
        for (LayerComparison c : rows) {
            m.put(c.layer.name(), c);
        }
        return m;
    }

    /** Waits for an input's run and rethrows its failure as it was thrown. */
    private static <T> T awaitInput(Future<T> f)
            throws IOException, GoldenException, SimulatorException, AgentException {
        try {
            return f.get();
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
