package dev.layerprobe.agent.backend;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.ort.ExecutionProviders;
import dev.layerprobe.core.ort.OrtSessions;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.IntermediateOutputs;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Models run by ONNX Runtime on the board's CPU: a float model, or a QDQ model as ONNX Runtime
 * executes it (DequantizeLinear → op → QuantizeLinear fused into its integer kernels). This is an
 * independent int8 reference on the device itself, and the backend for boards whose NPU LayerProbe
 * has no runtime for.
 *
 * <p>Per-layer values come from exposing intermediate tensors as graph outputs
 * ({@link IntermediateOutputs#quantizedLayers}): a quantized layer is reported as the integer codes
 * of its QuantizeLinear with that node's scale and zero point, under the layer name the simulator
 * and the host use; a float layer as its float32 value. Layers come in the model's node order, each
 * marked {@link Placement#CPU}. ONNX Runtime returns all outputs of a run at once, so unlike the
 * simulator a run holds every layer in native memory until the last one is reported; each is
 * converted to a Java value only when the observer is about to see it.
 *
 * <p>Not supported: {@link Capability#RUN_LAYER} (ONNX Runtime cannot run one layer of a session
 * on given inputs), device profiles' faults and numerics (ONNX Runtime computes as it does), and
 * model inputs of a type other than float32.
 *
 * <p>Thread-safe. Sessions are cached by model id (least recently used first out); a session
 * evicted or released by {@link #close()} while a run uses it is closed when its last handle
 * closes.
 */
public final class OrtBackend implements Backend {
    /** The name this backend is chosen by. */
    public static final String NAME = "ort";

    static final int DEFAULT_CACHED_SESSIONS = 4;

    private final OrtEnvironment env;
    private final ExecutionProviders providers;
    private final Map<String, Session> sessions;

    /**
     * @throws LayerProbeException {@link Code#RUNTIME} when ONNX Runtime's native library cannot be
     *     loaded on this machine
     */
    public OrtBackend() throws LayerProbeException {
        this(ExecutionProviders.CPU, DEFAULT_CACHED_SESSIONS);
    }

    /**
     * A backend whose sessions give their nodes to these execution providers first.
     *
     * @throws LayerProbeException {@link Code#RUNTIME} when ONNX Runtime's native library cannot be
     *     loaded on this machine
     */
    public OrtBackend(ExecutionProviders providers) throws LayerProbeException {
        this(providers, DEFAULT_CACHED_SESSIONS);
    }

    OrtBackend(int cachedSessions) throws LayerProbeException {
        this(ExecutionProviders.CPU, cachedSessions);
    }

    OrtBackend(ExecutionProviders providers, int cachedSessions) throws LayerProbeException {
        this.env = OrtSessions.environment();
        this.providers = providers;
        this.sessions = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Session> eldest) {
                if (size() > cachedSessions) {
                    eldest.getValue().release();
                    return true;
                }
                return false;
            }
        };
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * The board's CPU, e.g. {@code cpu (linux-aarch64, 4 cores)}, and the execution providers
     * when others than ONNX Runtime's CPU kernels were asked for ({@code , execution providers
     * xnnpack, cpu}).
     */
    @Override
    public String device() {
        return "cpu (" + OrtSessions.platform() + ", " + Runtime.getRuntime().availableProcessors() + " cores)"
                + (providers.providers().isEmpty() ? "" : ", execution providers " + providers);
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.RUN, Capability.NATIVE_DUMPS);
    }

    @Override
    public Map<String, String> versions() {
        return Map.of("onnxruntime", env.getVersion(), "execution_providers", providers.toString());
    }

    @Override
    public LoadedModel load(byte[] model, String modelId) throws LayerProbeException {
        synchronized (sessions) {
            Session cached = sessions.get(modelId);
            if (cached != null) {
                return new Handle(cached.acquire());
            }
        }
        // Created outside the lock: ONNX Runtime optimizes the graph for a while on big models, and
        // runs of other models must not wait for that.
        Session created = Session.create(model, "model " + shortId(modelId), providers);
        synchronized (sessions) {
            Session raced = sessions.get(modelId);
            if (raced != null) {
                created.release();
                return new Handle(raced.acquire());
            }
            sessions.put(modelId, created);
            return new Handle(created.acquire());
        }
    }

    /** Number of cached sessions, for tests. */
    int cachedSessions() {
        synchronized (sessions) {
            return sessions.size();
        }
    }

    @Override
    public void close() {
        synchronized (sessions) {
            sessions.values().forEach(Session::release);
            sessions.clear();
        }
    }

    private static String shortId(String modelId) {
        return modelId.length() > 12 ? modelId.substring(0, 12) : modelId;
    }

    /**
     * One ONNX Runtime session over the exposed model, reference-counted: the cache holds one
     * reference and every open handle one more; the native session is closed when the count drops
     * to zero.
     */
    private static final class Session {
        private final OrtSession session;
        private final String name;
        private final List<IntermediateOutputs.Exposed> values;
        private final Set<String> fetched;
        private final List<ValueInfo> inputs;
        private final Map<String, TensorInfo> inputInfo;
        private final Set<String> constants;
        private int references = 1;

        private Session(
                OrtSession session,
                String name,
                List<IntermediateOutputs.Exposed> values,
                Map<String, TensorInfo> inputInfo,
                Set<String> constants) {
            this.session = session;
            this.name = name;
            this.values = values;
            this.fetched = new HashSet<>();
            values.forEach(v -> fetched.add(v.tensor()));
            this.inputInfo = inputInfo;
            this.constants = constants;
            List<ValueInfo> in = new ArrayList<>();
            for (Map.Entry<String, TensorInfo> e : inputInfo.entrySet()) {
                int[] shape = Arrays.stream(e.getValue().getShape())
                        .mapToInt(d -> d < 0 ? -1 : (int) d)
                        .toArray();
                DType t = DType.fromOnnx(e.getValue().onnxType.value);
                in.add(new ValueInfo(e.getKey(), t == null ? DType.FLOAT32 : t, shape));
            }
            this.inputs = List.copyOf(in);
        }

        static Session create(byte[] bytes, String name, ExecutionProviders providers) throws LayerProbeException {
            ModelProto model = OnnxGraphs.parseModel(bytes, name);
            IntermediateOutputs exposed = IntermediateOutputs.quantizedLayers(model);
            OrtSession session = OrtSessions.open(exposed.model().toByteArray(), 0, providers, name);
            try {
                Set<String> available = session.getOutputNames();
                // ONNX Runtime may drop outputs it cannot type (e.g. in dead branches): report what it offers.
                List<IntermediateOutputs.Exposed> values = exposed.values().stream()
                        .filter(v -> available.contains(v.tensor()))
                        .toList();
                Map<String, TensorInfo> inputInfo = new LinkedHashMap<>();
                for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
                    if (!(e.getValue().getInfo() instanceof TensorInfo t)) {
                        throw new LayerProbeException(
                                Code.INVALID_MODEL,
                                name + ": input '" + e.getKey()
                                        + "' is not a tensor; the ort backend feeds tensors only");
                    }
                    inputInfo.put(e.getKey(), t);
                }
                Set<String> constants = new HashSet<>();
                for (TensorProto t : model.getGraph().getInitializerList()) {
                    constants.add(t.getName());
                }
                return new Session(session, name, values, inputInfo, constants);
            } catch (OrtException | LayerProbeException | RuntimeException e) {
                closeQuietly(session);
                if (e instanceof OrtException o) {
                    throw OrtSessions.loadError(name, o);
                }
                throw e instanceof LayerProbeException s
                        ? s
                        : new LayerProbeException(Code.RUNTIME, name + ": " + e.getMessage(), e);
            }
        }

        synchronized Session acquire() {
            references++;
            return this;
        }

        synchronized void release() {
            if (--references == 0) {
                closeQuietly(session);
            }
        }

        void run(Map<String, Tensor> feeds, LayerObserver observer) throws LayerProbeException {
            Map<String, OnnxTensor> ort = new HashMap<>();
            try {
                for (Map.Entry<String, TensorInfo> e : inputInfo.entrySet()) {
                    Tensor t = feeds.get(e.getKey());
                    if (t == null) {
                        throw new LayerProbeException(
                                Code.BAD_INPUT, "missing input '" + e.getKey() + "', expected " + inputInfo.keySet());
                    }
                    ort.put(e.getKey(), toOrt(e.getKey(), t, e.getValue()));
                }
                try (OrtSession.Result result = session.run(ort, fetched)) {
                    int index = 0;
                    for (IntermediateOutputs.Exposed v : values) {
                        OnnxValue value = result.get(v.tensor()).orElse(null);
                        LayerValue converted = value instanceof OnnxTensor t ? toLayerValue(v, t) : null;
                        if (converted != null) {
                            observer.onLayer(layer(index++, v), converted);
                        }
                    }
                }
            } catch (OrtException e) {
                throw OrtSessions.runError(e);
            } finally {
                ort.values().forEach(OnnxTensor::close);
            }
        }

        private OnnxTensor toOrt(String input, Tensor t, TensorInfo info) throws LayerProbeException, OrtException {
            long[] want = info.getShape();
            int[] have = t.shape();
            boolean fits = want.length == have.length;
            for (int i = 0; fits && i < want.length; i++) {
                fits = want[i] < 0 || want[i] == have[i];
            }
            if (!fits) {
                throw new LayerProbeException(
                        Code.BAD_INPUT,
                        "input '" + input + "' has shape " + Shapes.format(have) + ", " + name + " expects "
                                + Arrays.toString(want).replace(", ", "x"));
            }
            if (info.type != OnnxJavaType.FLOAT) {
                throw new LayerProbeException(
                        Code.BAD_INPUT,
                        "input '" + input + "' of " + name + " is " + info.type
                                + "; the ort backend feeds FLOAT inputs only");
            }
            float[] data = t.toFloat().floats();
            return OnnxTensor.createTensor(
                    OrtEnvironment.getEnvironment(),
                    FloatBuffer.wrap(data),
                    Arrays.stream(have).asLongStream().toArray());
        }

        private Layer layer(int index, IntermediateOutputs.Exposed v) {
            NodeProto p = v.producer();
            String op = p == null ? "QuantizeLinear" : p.getOpType();
            List<String> runtimeInputs = p == null
                    ? List.of()
                    : p.getInputList().stream()
                            .filter(i -> !i.isEmpty() && !constants.contains(i))
                            .toList();
            List<String> nodes = p == null || p.getName().isEmpty() ? List.of() : List.of(p.getName());
            return new Layer(
                    index,
                    v.layer(),
                    op,
                    runtimeInputs,
                    List.of(v.layer()),
                    nodes,
                    List.of(),
                    Map.of(),
                    Placement.CPU,
                    v.quant());
        }

        List<ValueInfo> inputs() {
            return inputs;
        }

        String name() {
            return name;
        }
    }

    /** A tensor ONNX Runtime returned, as the layer value the agent streams; null for types no layer has. */
    static LayerValue toLayerValue(IntermediateOutputs.Exposed v, OnnxTensor t) {
        TensorInfo info = t.getInfo();
        int[] shape = Arrays.stream(info.getShape()).mapToInt(Math::toIntExact).toArray();
        if (v.isCodes()) {
            int[] codes;
            DType type;
            switch (info.type) {
                case INT8, UINT8 -> {
                    ByteBuffer b = t.getByteBuffer();
                    codes = new int[b.remaining()];
                    boolean unsigned = info.type == OnnxJavaType.UINT8;
                    for (int i = 0; i < codes.length; i++) {
                        byte c = b.get(i);
                        codes[i] = unsigned ? c & 0xFF : c;
                    }
                    type = unsigned ? DType.UINT8 : DType.INT8;
                }
                case INT16 -> {
                    ShortBuffer b = t.getShortBuffer();
                    codes = new int[b.remaining()];
                    for (int i = 0; i < codes.length; i++) {
                        codes[i] = b.get(i);
                    }
                    type = DType.INT16;
                }
                default -> {
                    return null;
                }
            }
            QuantParams q = v.quant();
            if (v.codeOffset() != 0) {
                // An int8 pair the exposed model holds as uint8: back to the model's own codes.
                for (int i = 0; i < codes.length; i++) {
                    codes[i] -= v.codeOffset();
                }
                return LayerValue.of(new QTensor(shape, codes, q));
            }
            QuantParams params = q.type() == type ? q : new QuantParams(type, q.scale(), q.zeroPoint(), q.axis());
            return LayerValue.of(new QTensor(shape, codes, params));
        }
        float[] data;
        switch (info.type) {
            case FLOAT, FLOAT16, BFLOAT16 -> {
                // getFloatBuffer widens float16/bfloat16 to float32.
                FloatBuffer b = t.getFloatBuffer();
                data = new float[b.remaining()];
                b.get(data);
            }
            case DOUBLE -> {
                DoubleBuffer b = t.getDoubleBuffer();
                data = new float[b.remaining()];
                for (int i = 0; i < data.length; i++) {
                    data[i] = (float) b.get(i);
                }
            }
            default -> {
                // Shapes, indices, masks: not layers anyone compares.
                return null;
            }
        }
        return LayerValue.of(Tensor.ofFloats(shape, data));
    }

    private static void closeQuietly(OrtSession s) {
        try {
            s.close();
        } catch (OrtException e) {
            // Nothing to do about a session that will not close; its memory goes with the process.
        }
    }

    /** A handle on a session; closing it gives its reference back. */
    private static final class Handle implements LoadedModel {
        private final Session session;
        private boolean closed;

        Handle(Session session) {
            this.session = session;
        }

        @Override
        public List<ValueInfo> inputs() {
            checkOpen();
            return session.inputs();
        }

        @Override
        public void run(Map<String, Tensor> feeds, LayerObserver observer) throws LayerProbeException {
            checkOpen();
            session.run(feeds, observer);
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                session.release();
            }
        }

        private synchronized void checkOpen() {
            if (closed) {
                throw new IllegalStateException(session.name() + " is closed");
            }
        }
    }
}
