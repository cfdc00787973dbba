package dev.layerprobe.agent.backend;

import dev.layerprobe.agent.ArtifactVersion;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.AttributeProto;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The emulated device: models run on the Java NPU simulator, compiled for one
 * {@link DeviceProfile}. The profile's faults are applied by the simulator's compiler
 * ({@link CompileOptions#of(DeviceProfile)}), so this backend is wrong exactly where the profile
 * says, as a buggy device would be; a fault placed on a layer the model does not compute (a prefix
 * of the model that stops before it) is inactive for that model. A profile with {@code dumps: outputs_only} makes it a runtime
 * that returns only the model's outputs: it does not advertise {@link Capability#NATIVE_DUMPS}, and
 * a run reports each graph output once, under the output's name, after the whole model has run.
 *
 * <p>Thread-safe. Compiled programs are immutable and cached by model id (least recently used
 * first out), since a host usually runs the same model many times.
 */
public final class SimBackend implements Backend {
    /** The name this backend is chosen by. */
    public static final String NAME = "sim";

    static final int DEFAULT_CACHED_PROGRAMS = 4;
    /** The newest ai.onnx opset (ONNX 1.20); a higher version is not a model any exporter wrote. */
    static final int MAX_ONNX_OPSET = 25;

    /** Compiles a parsed model; {@link Simulator#compile} outside of tests. */
    @FunctionalInterface
    interface Compiler {
        NpuProgram compile(ModelProto model, String name, CompileOptions options) throws LayerProbeException;
    }

    private final DeviceProfile profile;
    private final Compiler compiler;
    private final Map<String, NpuProgram> programs;

    public SimBackend(DeviceProfile profile) {
        this(profile, Simulator::compile, DEFAULT_CACHED_PROGRAMS);
    }

    SimBackend(DeviceProfile profile, Compiler compiler, int cachedPrograms) {
        this.profile = Objects.requireNonNull(profile, "profile");
        this.compiler = compiler;
        this.programs = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, NpuProgram> eldest) {
                return size() > cachedPrograms;
            }
        };
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String device() {
        return profile.name();
    }

    @Override
    public Set<Capability> capabilities() {
        Set<Capability> all = EnumSet.copyOf(new SimBackendProvider().capabilities());
        if (profile.dumps() == DeviceProfile.Dumps.OUTPUTS_ONLY) {
            all.remove(Capability.NATIVE_DUMPS);
        }
        return all;
    }

    @Override
    public Map<String, String> versions() {
        return Map.of("simulator", ArtifactVersion.of(Simulator.class, "layerprobe-simulator"));
    }

    @Override
    public Optional<DeviceProfile> profile() {
        return Optional.of(profile);
    }

    /**
     * Parses the model and checks its opset imports: the default domain ({@code ""} or
     * {@code ai.onnx}) must be imported once, at a version ONNX has released.
     */
    @Override
    public void check(byte[] model) throws LayerProbeException {
        ModelProto m = OnnxGraphs.parseModel(model, "the uploaded model");
        Set<String> domains = new HashSet<>();
        boolean hasDefault = false;
        for (OperatorSetIdProto o : m.getOpsetImportList()) {
            String domain = o.getDomain().equals("ai.onnx") ? "" : o.getDomain();
            if (!domains.add(domain)) {
                throw new LayerProbeException(
                        LayerProbeException.Code.INVALID_MODEL,
                        "the uploaded model imports" + " domain '" + o.getDomain() + "' twice");
            }
            if (domain.isEmpty()) {
                hasDefault = true;
                if (o.getVersion() < 1 || o.getVersion() > MAX_ONNX_OPSET) {
                    throw new LayerProbeException(
                            LayerProbeException.Code.INVALID_MODEL,
                            "the uploaded model imports" + " ai.onnx opset " + o.getVersion() + ", expected 1 to "
                                    + MAX_ONNX_OPSET);
                }
            } else if (o.getVersion() < 1) {
                throw new LayerProbeException(
                        LayerProbeException.Code.INVALID_MODEL,
                        "the uploaded model imports" + " domain '" + o.getDomain() + "' at version " + o.getVersion()
                                + ", expected 1 or more");
            }
        }
        if (!hasDefault) {
            throw new LayerProbeException(
                    LayerProbeException.Code.INVALID_MODEL,
                    "the uploaded model does not import" + " the default ONNX domain (ai.onnx); its opsets are "
                            + domains);
        }
    }

    @Override
    public LoadedModel load(byte[] model, String modelId) throws LayerProbeException {
        NpuProgram program;
        synchronized (programs) {
            program = programs.get(modelId);
        }
        if (program == null) {
            // Compiled outside the lock: compiling a big model takes seconds and must not stall runs
            // of other models. Two concurrent first loads of one model both compile; the results are
            // equal and immutable, so the second simply replaces the first.
            String name = "model " + shortId(modelId);
            ModelProto parsed = OnnxGraphs.parseModel(model, name);
            Set<String> values = new HashSet<>();
            computed(parsed.getGraph(), values);
            program = compiler.compile(parsed, name, CompileOptions.of(profile.forModel(values)));
            synchronized (programs) {
                programs.put(modelId, program);
            }
        }
        return new SimModel(program, profile.dumps() == DeviceProfile.Dumps.OUTPUTS_ONLY);
    }

    /** Number of cached programs, for tests. */
    int cachedPrograms() {
        synchronized (programs) {
            return programs.size();
        }
    }

    @Override
    public void close() {
        synchronized (programs) {
            programs.clear();
        }
    }

    /** Adds the values the nodes of {@code g} compute, those of control-flow branches included. */
    private static void computed(GraphProto g, Set<String> into) {
        for (NodeProto n : g.getNodeList()) {
            into.addAll(n.getOutputList());
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasG()) {
                    computed(a.getG(), into);
                }
                for (GraphProto sub : a.getGraphsList()) {
                    computed(sub, into);
                }
            }
        }
    }

    private static String shortId(String modelId) {
        return modelId.length() > 12 ? modelId.substring(0, 12) : modelId;
    }

    /** A handle on a cached program; closing it only forbids further use of the handle. */
    private static final class SimModel implements LoadedModel, LayerIsolation {
        private final NpuProgram program;
        private final boolean outputsOnly;
        private volatile boolean closed;

        SimModel(NpuProgram program, boolean outputsOnly) {
            this.program = program;
            this.outputsOnly = outputsOnly;
        }

        @Override
        public List<ValueInfo> inputs() {
            checkOpen();
            return program.inputs();
        }

        @Override
        public void run(Map<String, Tensor> feeds, LayerObserver observer) throws LayerProbeException {
            checkOpen();
            if (!outputsOnly) {
                program.run(feeds, observer);
                return;
            }
            Map<String, LayerValue> outputs = program.run(feeds, LayerObserver.NONE);
            // Each output under its graph name, as a runtime that returns outputs names them, in the
            // order of the layers that produce them (the stream's indices must increase).
            List<Layer> producers = new ArrayList<>();
            for (String o : program.outputs()) {
                Layer l =
                        program.layer(o).orElseThrow(() -> new IllegalStateException("no layer computes output " + o));
                producers.add(new Layer(
                        l.index(),
                        o,
                        l.op(),
                        l.inputs(),
                        List.of(o),
                        l.fusedNodes(),
                        l.fusedOps(),
                        l.attributes(),
                        l.placement(),
                        l.outputQuant(),
                        l.precision()));
            }
            producers.sort(Comparator.comparingInt(Layer::index));
            int last = -1;
            for (Layer l : producers) {
                if (l.index() != last) {
                    observer.onLayer(l, outputs.get(l.name()));
                    last = l.index();
                }
            }
        }

        @Override
        public LayerValue runLayer(String layer, Map<String, Tensor> layerInputs) throws LayerProbeException {
            checkOpen();
            return program.runLayer(layer, layerInputs);
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
}
