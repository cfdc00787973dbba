package dev.layerprobe.agent.backend;

import dev.layerprobe.agent.ArtifactVersion;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.layout.DumpLayouts;
import dev.layerprobe.dump.layout.LayerDump;
import dev.layerprobe.dump.mapping.LayerMapper;
import dev.layerprobe.dump.mapping.LayerMapping;
import dev.layerprobe.dump.mapping.MappingTarget;
import dev.layerprobe.dump.mapping.Relayout;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * A vendor runtime on the board, driven as a command ({@link ExecConfig}): for every run the agent
 * makes a fresh working folder, writes the uploaded model ({@code model.onnx}) and the inputs
 * ({@code .npy}) into it, runs the configured command there with its environment and a timeout,
 * reads the per-layer dumps it leaves with the dump readers, maps them onto the model's layers
 * ({@link LayerMapper}: the vendor's names to ONNX names, channels-last converted) and reports them
 * in the model's execution order, as a {@code Run} streams them. Layers the runtime does not dump,
 * or whose names cannot be mapped, are not sent (the host shows them blank) and are logged.
 *
 * <p>The model is also compiled by the simulator, only to know its layers (names, op types, inputs)
 * and, when a dump layout carries no shapes, their shapes. It cannot run single layers, so it does
 * not advertise {@code run_layer}. Thread-safe: runs share nothing but the configuration.
 */
public final class ExecBackend implements Backend {
    /** The name this backend is chosen by. */
    public static final String NAME = "exec";

    private static final Logger LOG = Logger.getLogger(ExecBackend.class.getName());
    private static final int LOG_TAIL_LINES = 5;

    private final ExecConfig config;
    private final DeviceProfile profile;

    public ExecBackend(ExecConfig config, DeviceProfile profile) {
        this.config = config;
        // Faults are the emulated device's; a real runtime has its own bugs.
        this.profile = profile.withoutFaults();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String device() {
        return config.device();
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.RUN);
    }

    @Override
    public Map<String, String> versions() {
        return Map.of(
                "runtime", config.command(), "dump-readers", ArtifactVersion.of(LayerDump.class, "layerprobe-dump"));
    }

    @Override
    public LoadedModel load(byte[] model, String modelId) throws LayerProbeException {
        String name = "model " + (modelId.length() > 12 ? modelId.substring(0, 12) : modelId);
        NpuProgram program = Simulator.compile(OnnxGraphs.parseModel(model, name), name, CompileOptions.of(profile));
        return new ExecModel(model, program);
    }

    private final class ExecModel implements LoadedModel {
        private final byte[] model;
        private final NpuProgram program;
        private volatile boolean closed;

        ExecModel(byte[] model, NpuProgram program) {
            this.model = model;
            this.program = program;
        }

        @Override
        public List<ValueInfo> inputs() {
            checkOpen();
            return program.inputs();
        }

        @Override
        public void run(Map<String, Tensor> feeds, LayerObserver observer) throws LayerProbeException {
            checkOpen();
            Path work = null;
            try {
                work = Files.createTempDirectory(config.workRoot(), "layerprobe-exec-");
                Path dumps = work.resolve(config.dumpDir());
                Files.createDirectories(dumps);
                Files.write(work.resolve("model.onnx"), model);
                Path inputs = Files.createDirectories(work.resolve("inputs"));
                for (ValueInfo in : program.inputs()) {
                    Npy.write(
                            inputs.resolve(in.name().replaceAll("[^A-Za-z0-9._-]", "_") + ".npy"),
                            feeds.get(in.name()));
                }
                Npy.write(
                        work.resolve("input.npy"),
                        feeds.get(program.inputs().get(0).name()));
                Map<String, String> values = Map.of(
                        "{model}",
                        work.resolve("model.onnx").toString(),
                        "{input}",
                        work.resolve("input.npy").toString(),
                        "{inputs}",
                        inputs.toString(),
                        "{dumps}",
                        dumps.toString(),
                        "{workdir}",
                        work.toString());
                execute(work, values);
                stream(DumpLayouts.open(dumps, config.layout(), config.map().fixedPoint()), feeds, observer);
            } catch (IOException e) {
                throw new LayerProbeException(
                        LayerProbeException.Code.IO, "the vendor runtime's dumps: " + e.getMessage(), e);
            } finally {
                if (work != null && !config.keepWorkdirs()) {
                    delete(work);
                }
            }
        }

        private void execute(Path work, Map<String, String> values) throws LayerProbeException, IOException {
            List<String> cmd = new ArrayList<>();
            cmd.add(config.command());
            config.args().forEach(a -> cmd.add(substitute(a, values)));
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .directory(work.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(work.resolve("runtime.log").toFile());
            config.env().forEach((k, v) -> pb.environment().put(k, substitute(v, values)));
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                throw new LayerProbeException(
                        LayerProbeException.Code.IO,
                        "cannot start the vendor runtime '" + config.command() + "': " + e.getMessage(),
                        e);
            }
            try {
                if (!p.waitFor(config.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    throw new LayerProbeException(
                            LayerProbeException.Code.IO,
                            "the vendor runtime '" + config.command() + "' did not finish within "
                                    + config.timeout().toSeconds() + " s");
                }
            } catch (InterruptedException e) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new LayerProbeException(LayerProbeException.Code.IO, "the run was interrupted", e);
            }
            if (p.exitValue() != 0) {
                throw new LayerProbeException(
                        LayerProbeException.Code.IO,
                        "the vendor runtime '" + config.command() + "' exited with " + p.exitValue()
                                + tail(work.resolve("runtime.log")));
            }
        }

        private void stream(LayerDump dump, Map<String, Tensor> feeds, LayerObserver observer)
                throws LayerProbeException, IOException {
            List<Layer> layers = program.layers();
            Map<String, int[]> shapes = new HashMap<>();
            if (dump.layers().stream().anyMatch(l -> l.shape() == null)) {
                // The layout records no shapes: the simulator's run on the same inputs knows them.
                program.run(feeds, (layer, v) -> shapes.put(layer.name(), v.shape()));
            }
            List<MappingTarget> targets = layers.stream()
                    .map(l -> new MappingTarget(l.name(), l.op(), shapes.get(l.name())))
                    .toList();
            LayerMapping mapping;
            try {
                mapping = LayerMapper.map(dump.layers(), targets, config.map().names());
            } catch (IllegalArgumentException e) {
                throw new LayerProbeException(
                        LayerProbeException.Code.BAD_PROFILE, "agent mapping file: " + e.getMessage());
            }
            if (!mapping.unmappedDump().isEmpty()) {
                LOG.log(
                        Level.INFO,
                        () -> mapping.unmappedDump().size() + " dumped layers map to no layer of the model: "
                                + mapping.unmappedDump().stream()
                                        .limit(10)
                                        .map(d -> d.name())
                                        .toList());
            }
            Map<String, LayerMapping.Entry> byTarget = mapping.byTarget();
            for (Layer l : layers) {
                LayerMapping.Entry e = byTarget.get(l.name());
                if (e == null) {
                    continue;
                }
                LayerValue v = dump.read(e.from());
                int[] shape = shapes.containsKey(l.name())
                        ? shapes.get(l.name())
                        : e.from().shape();
                try {
                    v = Relayout.toTarget(
                            v, shape, e.nhwc(), "dumped layer '" + e.from().name() + "'");
                } catch (IllegalArgumentException x) {
                    throw new LayerProbeException(LayerProbeException.Code.IO, x.getMessage(), x);
                }
                observer.onLayer(l, v);
            }
        }

        @Override
        public void close() {
            closed = true;
        }

        private void checkOpen() {
            if (closed) {
                throw new IllegalStateException("model " + program.modelName() + " is closed");
            }
        }
    }

    static String substitute(String s, Map<String, String> values) {
        String r = s;
        for (Map.Entry<String, String> e : values.entrySet()) {
            r = r.replace(e.getKey(), e.getValue());
        }
        return r;
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            List<String> last = lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size());
            return last.isEmpty() ? "" : ": " + String.join(" | ", last);
        } catch (IOException e) {
            return "";
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    LOG.log(Level.FINE, "cannot delete " + p, e);
                }
            });
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot clean up working folder " + dir, e);
        }
    }
}
