package dev.layerprobe.host.bisect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.ort.OrtSessions;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.host.quantize.QuantizationOptions;
import dev.layerprobe.host.quantize.Quantizer;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.IntermediateOutputs;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.onnx.PrefixModels;
import dev.layerprobe.simulator.quant.CalibrationAlgorithm;
import dev.layerprobe.simulator.quant.LayerPrecision;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A prefix model is valid ONNX that ONNX Runtime loads and runs, for every cut point of every shared
 * model (every layer of its float program, and of its int8 program as {@code quantize} writes it),
 * and computes what the whole model computes there: the float value to within rounding (ONNX
 * Runtime may fuse across a point that is no cut in the whole model), the int8 layer's real value
 * with at most 1% of its values more than one step of its scale off and none more than four. The
 * prefix's last QuantizeLinear/DequantizeLinear pair feeds a graph output, so ONNX Runtime's
 * int8-to-uint8 pass may leave it alone, and on x86 that last Conv then runs in float before it is
 * requantized (see {@code IntermediateOutputs}): its rounding, not a different network, is what
 * those steps are.
 */
class PrefixModelsOrtTest {
    private static final Map<String, long[]> FIXED_SHAPES = Map.of("ppocr_cls", new long[] {1, 3, 48, 192});

    @ParameterizedTest
    @CsvSource({
        "mobilenet_v2, calib224",
        "mobilepose_like, calib224",
        "espcn_x3, calib224",
        "tiny_transformer, calib224",
        "ppocr_cls, text",
        "gru_kws, mfcc"
    })
    void everyCutPointLoadsInOnnxRuntimeAndComputesTheLayer(String name, String calib) throws Exception {
        Path file = SharedData.require("models/" + name + ".onnx");
        Path calibDir = SharedData.require("images/" + calib);
        ModelProto model = OnnxGraphs.readModel(file);
        CompileOptions options = CompileOptions.DEFAULT;
        NpuProgram fp = Simulator.compile(file, options);
        ValueInfo input = fp.inputs().get(0);
        long[] shape = FIXED_SHAPES.getOrDefault(name, toLongs(input.shape()));
        if (FIXED_SHAPES.containsKey(name)) {
            int[] dims = new int[shape.length];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = (int) shape[i];
            }
            options = CompileOptions.DEFAULT.withInputShapes(Map.of(input.name(), dims));
            fp = Simulator.compile(file, options);
        }
        float[] x = seeded(shape);

        int cuts = checkEveryLayer(model, fp, input.name(), shape, x, false);

        List<Path> calibFiles;
        try (Stream<Path> l = Files.list(calibDir)) {
            calibFiles = l.sorted().limit(2).toList();
        }
        InputSpec spec = name.equals("ppocr_cls")
                ? new InputSpec(new float[] {0.5f}, new float[] {0.5f}, true, 1f / 255f)
                : InputSpec.IMAGENET;
        QuantizationOptions q =
                new QuantizationOptions(LayerPrecision.INT8, true, CalibrationAlgorithm.MINMAX, 99.99, null, null);
        Quantizer quantizer = new Quantizer(new PrintWriter(new StringWriter()));
        ModelProto qdq = quantizer.quantize(fp, quantizer.calibrate(fp, model.toByteArray(), calibFiles, spec, q), q);
        NpuProgram int8 = Simulator.compile(qdq, name, options);
        cuts += checkEveryLayer(qdq, int8, input.name(), shape, x, true);
        System.out.println(name + ": " + cuts + " prefix models loaded and checked in ONNX Runtime");
    }

    /**
     * Whether ONNX Runtime loads the model with exact int8 products. On x86 CPUs without VNNI its
     * default u8 x s8 kernels sum pairs of products in 16 bits and saturate: one Conv of
     * mobilenet_v2's QDQ file came out 0.95 in the whole model and 1.53 in its prefix on an AVX2
     * EPYC, the CPU's error and not the prefix's. {@code session.x64quantprecision} takes exact
     * kernels there (and changes nothing elsewhere), but ONNX Runtime 1.23 refuses some models in
     * that mode (a quantized weight shared by two MatMuls is converted to u8 twice); the whole model
     * and all its prefixes then run in the default mode, which such models passed in.
     */
    private static boolean loadsExact(byte[] model) throws Exception {
        try {
            session(model, true, "whole").close();
            return true;
        } catch (LayerProbeException e) {
            return false;
        }
    }

    private static OrtSession session(byte[] model, boolean exact, String name) throws Exception {
        if (!exact) {
            return OrtSessions.open(model, 1, name);
        }
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(1);
            o.addConfigEntry("session.intra_op.allow_spinning", "0");
            o.addConfigEntry("session.x64quantprecision", "1");
            o.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            return OrtSessions.environment().createSession(model, o);
        } catch (OrtException e) {
            throw OrtSessions.loadError(name, e);
        }
    }

    private static int checkEveryLayer(
            ModelProto model, NpuProgram program, String input, long[] shape, float[] x, boolean quantized)
            throws Exception {
        OrtEnvironment env = OrtSessions.environment();
        IntermediateOutputs exposed =
                quantized ? IntermediateOutputs.quantizedLayers(model) : IntermediateOutputs.everyNodeOutput(model);
        Map<String, float[]> whole = new HashMap<>();
        Map<String, Float> steps = new HashMap<>();
        boolean exact = loadsExact(exposed.model().toByteArray());
        try (OrtSession s = session(exposed.model().toByteArray(), exact, "whole");
                OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
                OrtSession.Result r = s.run(Map.of(input, in))) {
            for (IntermediateOutputs.Exposed e : exposed.values()) {
                if (r.get(e.tensor()).isEmpty() || !isNumeric(r.get(e.tensor()).get(), e)) {
                    continue; // shapes and indices (int64 values of float models) are checked by type only
                }
                whole.put(e.layer(), reals(r.get(e.tensor()).get(), e));
                if (e.isCodes()) {
                    steps.put(e.layer(), e.quant().scale(0));
                }
            }
        }
        int checked = 0;
        for (Layer layer : program.layers()) {
            String cut = PrefixModels.layerCut(model, layer.name());
            ModelProto prefix = PrefixModels.atLayer(model, layer.name());
            assertEquals(
                    List.of(cut),
                    prefix.getGraph().getOutputList().stream()
                            .map(v -> v.getName())
                            .toList());
            try (OrtSession s = session(prefix.toByteArray(), exact, "prefix at " + layer.name());
                    OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
                    OrtSession.Result r = s.run(Map.of(input, in))) {
                float[] want = whole.get(layer.name());
                if (want == null) {
                    continue; // not a float value, or one the whole model's run does not expose
                }
                float[] got = floats(r.get(0));
                assertEquals(want.length, got.length, layer.name());
                Float step = quantized ? steps.get(layer.name()) : null;
                float tolerance = step != null ? step * 4.001f : 1e-4f * Math.max(1f, maxAbs(want));
                int beyondOneStep = 0;
                for (int i = 0; i < got.length; i++) {
                    float d = Math.abs(got[i] - want[i]);
                    assertTrue(
                            d <= tolerance || (Float.isNaN(got[i]) && Float.isNaN(want[i])),
                            layer.name() + (quantized ? " (int8)" : " (float)") + "[" + i + "]: prefix " + got[i]
                                    + ", whole model " + want[i]);
                    beyondOneStep += step != null && d > step * 1.001f ? 1 : 0;
                }
                assertTrue(
                        beyondOneStep <= got.length / 100,
                        layer.name() + ": " + beyondOneStep + " of " + got.length + " values more than one step off");
                checked++;
            }
        }
        assertTrue(
                checked >= program.layers().size() * 9 / 10,
                checked + " of " + program.layers().size());
        return checked;
    }

    private static float[] reals(OnnxValue v, IntermediateOutputs.Exposed e) throws Exception {
        if (!e.isCodes()) {
            return floats(v);
        }
        Object data = ((OnnxTensor) v).getValue();
        long[] codes = flatCodes(data);
        if (((OnnxTensor) v).getInfo().type == OnnxJavaType.UINT8) {
            for (int i = 0; i < codes.length; i++) {
                codes[i] &= 0xFF; // Java holds uint8 in signed bytes
            }
        }
        float[] out = new float[codes.length];
        for (int i = 0; i < codes.length; i++) {
            out[i] = e.quant().dequantize(codes[i] - e.codeOffset(), 0);
        }
        return out;
    }

    private static boolean isNumeric(OnnxValue v, IntermediateOutputs.Exposed e) {
        return e.isCodes() || ((OnnxTensor) v).getInfo().type == OnnxJavaType.FLOAT;
    }

    private static long[] flatCodes(Object data) {
        java.util.List<Long> acc = new java.util.ArrayList<>();
        flatten(data, acc);
        return acc.stream().mapToLong(Long::longValue).toArray();
    }

    private static void flatten(Object o, List<Long> acc) {
        if (o instanceof byte[] b) {
            for (byte v : b) {
                acc.add((long) v);
            }
        } else if (o instanceof short[] s) {
            for (short v : s) {
                acc.add((long) v);
            }
        } else if (o instanceof int[] s) {
            for (int v : s) {
                acc.add((long) v);
            }
        } else if (o instanceof Object[] arr) {
            for (Object a : arr) {
                flatten(a, acc);
            }
        } else {
            throw new IllegalStateException("codes of type " + o.getClass());
        }
    }

    private static float[] floats(OnnxValue v) {
        FloatBuffer b = ((OnnxTensor) v).getFloatBuffer();
        float[] f = new float[b.remaining()];
        b.get(f);
        return f;
    }

    private static float maxAbs(float[] v) {
        float m = 0;
        for (float f : v) {
            m = Math.max(m, Math.abs(f));
        }
        return m;
    }

    private static long[] toLongs(int[] dims) {
        long[] l = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            l[i] = dims[i] < 0 ? 1 : dims[i];
        }
        return l;
    }

    private static float[] seeded(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        Random r = new Random(42);
        float[] x = new float[(int) n];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat() * 2 - 1;
        }
        return x;
    }
}
