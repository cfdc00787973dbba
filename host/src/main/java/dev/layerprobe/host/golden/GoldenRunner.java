package dev.layerprobe.host.golden;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.ort.OrtSessions;
import dev.layerprobe.core.tensor.Half;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.onnx.IntermediateOutputs;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The golden reference (docs/architecture.md#three-results-four-comparisons): the float model in ONNX Runtime with every intermediate tensor
 * exposed. The model is copied with every node output appended as a graph output
 * ({@link IntermediateOutputs#everyNodeOutput}), so one run yields every layer's float32 value keyed
 * by its ONNX tensor name.
 *
 * <p>Owns an {@link OrtSession} (native memory); close it. A session runs with two intra-op
 * threads. {@link #run} may be called from several threads (ORT sessions allow concurrent runs);
 * after {@link #close()} every method throws {@link IllegalStateException}.
 */
public final class GoldenRunner implements AutoCloseable {
    private static final int INTRA_OP_THREADS = 2;

    private final OrtEnvironment env;
    private final OrtSession session;
    private final List<String> exposed;
    private final Map<String, NodeInfo> inputs;
    private volatile boolean closed;

    private GoldenRunner(OrtEnvironment env, OrtSession session, List<String> exposed) throws OrtException {
        this.env = env;
        this.session = session;
        this.exposed = exposed;
        this.inputs = session.getInputInfo();
    }

    /** Loads an ONNX file; errors name the file. */
    public static GoldenRunner open(Path model) throws GoldenException {
        ModelProto m;
        try {
            m = OnnxGraphs.readModel(model);
        } catch (SimulatorException e) {
            throw new GoldenException(e.getMessage(), e);
        }
        return of(m, model.toString());
    }

    /**
     * Creates a session for a model.
     *
     * @param what names the model in error messages
     */
    public static GoldenRunner of(ModelProto model, String what) throws GoldenException {
        IntermediateOutputs exposedModel = IntermediateOutputs.everyNodeOutput(model);
        List<String> exposed = new ArrayList<>(exposedModel.values().stream()
                .map(IntermediateOutputs.Exposed::tensor)
                .toList());
        byte[] bytes = exposedModel.model().toByteArray();
        OrtSession s;
        try {
            s = OrtSessions.open(bytes, INTRA_OP_THREADS, what);
        } catch (LayerProbeException e) {
            throw new GoldenException(e.getMessage(), e);
        }
        try {
            Set<String> available = s.getOutputNames();
            // ORT may prune outputs it cannot type (e.g. in unused branches); keep what it offers.
            exposed.removeIf(o -> !available.contains(o));
            return new GoldenRunner(OrtEnvironment.getEnvironment(), s, exposed);
        } catch (OrtException e) {
            closeQuietly(s);
            throw new GoldenException("ONNX Runtime cannot load " + what + ": " + OrtSessions.message(e), e);
        }
    }

    /** The model's inputs (without initializers) and their shapes; {@code -1} marks a dynamic dim. */
    public Map<String, long[]> inputShapes() {
        checkOpen();
        Map<String, long[]> m = new LinkedHashMap<>();
        for (Map.Entry<String, NodeInfo> e : inputs.entrySet()) {
            m.put(e.getKey(), e.getValue().getInfo() instanceof TensorInfo t ? t.getShape() : new long[0]);
        }
        return m;
    }

    /** Every node output the run returns, in the model's node order. */
    public List<String> tensorNames() {
        checkOpen();
        return List.copyOf(exposed);
    }

    /**
     * Runs the model.
     *
     * @param feeds one tensor per model input, converted to the input's element type
     * @return the graph inputs followed by every float node output (float16 and double converted
     *     to float32), in node order; non-float outputs such as int64 shapes are left out
     */
    public Map<String, Tensor> run(Map<String, Tensor> feeds) throws GoldenException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        run(feeds, out::put);
        return out;
    }

    /** Receives the tensors of a golden run one at a time. */
    @FunctionalInterface
    public interface TensorSink {
        void accept(String name, Tensor value) throws java.io.IOException;
    }

    /**
     * Runs the model and hands the same tensors as {@link #run(Map)}, in the same order, to
     * {@code sink} one at a time: only the current one is copied onto the Java heap (ONNX Runtime
     * keeps its outputs in native memory), so a caller that writes each to disk never holds a run.
     *
     * @throws GoldenException also when the sink fails, naming the tensor
     */
    public void run(Map<String, Tensor> feeds, TensorSink sink) throws GoldenException {
        checkOpen();
        for (String k : feeds.keySet()) {
            if (!inputs.containsKey(k)) {
                throw new GoldenException("unknown input '" + k + "', expected one of " + inputs.keySet());
            }
        }
        Map<String, OnnxTensor> ort = new HashMap<>();
        try {
            for (Map.Entry<String, NodeInfo> e : inputs.entrySet()) {
                Tensor t = feeds.get(e.getKey());
                if (t == null) {
                    throw new GoldenException("missing input '" + e.getKey() + "', the model needs " + inputs.keySet());
                }
                ort.put(e.getKey(), toOrt(e.getKey(), t, (TensorInfo)
                        e.getValue().getInfo()));
            }
            String current = null;
            try {
                for (String k : inputs.keySet()) {
                    Tensor f = feeds.get(k);
                    if (f.isFloating()) {
                        current = k;
                        sink.accept(k, f.toFloat());
                    }
                }
                try (OrtSession.Result r = session.run(ort)) {
                    for (String name : exposed) {
                        OnnxValue v = r.get(name).orElse(null);
                        if (v instanceof OnnxTensor t) {
                            Tensor f = toFloatTensor(t);
                            if (f != null) {
                                current = name;
                                sink.accept(name, f);
                            }
                        }
                    }
                }
            } catch (java.io.IOException e) {
                throw new GoldenException("cannot keep golden tensor '" + current + "': " + e.getMessage(), e);
            }
        } catch (OrtException e) {
            throw new GoldenException("ONNX Runtime failed to run the float model: " + OrtSessions.message(e), e);
        } finally {
            ort.values().forEach(OnnxTensor::close);
        }
    }

    private OnnxTensor toOrt(String name, Tensor t, TensorInfo info) throws OrtException, GoldenException {
        long[] want = info.getShape();
        int[] have = t.shape();
        boolean ok = want.length == have.length;
        for (int i = 0; ok && i < want.length; i++) {
            ok = want[i] < 0 || want[i] == have[i];
        }
        if (!ok) {
            throw new GoldenException("input '" + name + "' has shape " + Arrays.toString(have) + ", the model expects "
                    + Arrays.toString(want));
        }
        long[] shape = Arrays.stream(have).asLongStream().toArray();
        int n = t.size();
        switch (info.type) {
            case FLOAT: {
                FloatBuffer b = FloatBuffer.allocate(n);
                for (int i = 0; i < n; i++) {
                    b.put((float) t.getDouble(i));
                }
                return OnnxTensor.createTensor(env, b.flip(), shape);
            }
            case DOUBLE: {
                DoubleBuffer b = DoubleBuffer.allocate(n);
                for (int i = 0; i < n; i++) {
                    b.put(t.getDouble(i));
                }
                return OnnxTensor.createTensor(env, b.flip(), shape);
            }
            case FLOAT16: {
                ShortBuffer b = ShortBuffer.allocate(n);
                for (int i = 0; i < n; i++) {
                    b.put(Half.fromFloat((float) t.getDouble(i)));
                }
                return OnnxTensor.createTensor(env, b.flip(), shape, OnnxJavaType.FLOAT16);
            }
            case INT64: {
                LongBuffer b = LongBuffer.allocate(n);
                for (int i = 0; i < n; i++) {
                    b.put(t.getLong(i));
                }
                return OnnxTensor.createTensor(env, b.flip(), shape);
            }
            case INT32: {
                IntBuffer b = IntBuffer.allocate(n);
                for (int i = 0; i < n; i++) {
                    b.put((int) t.getLong(i));
                }
                return OnnxTensor.createTensor(env, b.flip(), shape);
            }
            case INT8:
            case UINT8:
            case BOOL: {
                ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.nativeOrder());
                for (int i = 0; i < n; i++) {
                    b.put((byte) t.getLong(i));
                }
                return OnnxTensor.createTensor(env, b.flip(), shape, info.type);
            }
            default:
                throw new GoldenException("input '" + name + "' has element type " + info.type
                        + ", expected one of [FLOAT, DOUBLE, FLOAT16, INT64, INT32, INT8, UINT8, BOOL]");
        }
    }

    /** A float32 copy of a float/float16/double tensor, or null for other element types. */
    private static Tensor toFloatTensor(OnnxTensor t) {
        TensorInfo info = t.getInfo();
        int[] shape = Arrays.stream(info.getShape()).mapToInt(Math::toIntExact).toArray();
        float[] data;
        switch (info.type) {
            case FLOAT, FLOAT16, BFLOAT16 -> {
                // getFloatBuffer widens float16/bfloat16 to float32.
                FloatBuffer b = t.getFloatBuffer();
                if (b.hasArray() && b.arrayOffset() == 0 && b.position() == 0 && b.array().length == b.remaining()) {
                    data = b.array(); // already a fresh copy: a second one would double the peak for big tensors
                } else {
                    data = new float[b.remaining()];
                    b.get(data);
                }
            }
            case DOUBLE -> {
                DoubleBuffer b = t.getDoubleBuffer();
                data = new float[b.remaining()];
                for (int i = 0; i < data.length; i++) {
                    data[i] = (float) b.get(i);
                }
            }
            default -> {
                return null;
            }
        }
        return Tensor.ofFloats(shape, data);
    }

    private static void closeQuietly(OrtSession s) {
        try {
            s.close();
        } catch (OrtException e) {
            // the session failed already; its own error is the one to report
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("golden runner is closed");
        }
    }

    /** Releases the session; idempotent. The shared {@link OrtEnvironment} stays alive. */
    @Override
    public void close() throws GoldenException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            session.close();
        } catch (OrtException e) {
            throw new GoldenException("cannot close ONNX Runtime session: " + OrtSessions.message(e), e);
        }
    }
}
