package dev.layerprobe.host.ortcheck;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.RequantMode;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.quant.QuantConfig;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Cross-checks the simulator in {@code requant: float} mode against ONNX Runtime running the same
 * QDQ file (graph optimizations ALL, so ORT fuses DQ → op → Q into its QLinear kernels; only the
 * graph outputs are requested, so the fusion is not disturbed).
 */
final class OrtCheck {
    private OrtCheck() {}

    /** Agreement of final output codes. */
    record Agreement(long equal, long total, int maxDiff, Map<String, Integer> ortOps) {
        double fraction() {
            return total == 0 ? 1 : (double) equal / total;
        }

        @Override
        public String toString() {
            return String.format("%d/%d equal (%.4f%%), max %d LSB", equal, total, 100.0 * fraction(), maxDiff);
        }
    }

    static Tensor random(Random r, int[] shape, float lo, float hi) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = lo + (hi - lo) * r.nextFloat();
        }
        return Tensor.ofFloats(shape, f);
    }

    /** Writes the QDQ model of a float graph calibrated (minmax) on the given samples. */
    static ModelProto qdq(Graph g, List<Map<String, Tensor>> calib, DType activations) throws Exception {
        ModelProto fm = OnnxGraphs.toModel(g, "ortcheck", Map.of());
        NpuProgram fp = Simulator.compile(fm, g.name(), CompileOptions.DEFAULT);
        return qdq(fp, calib, activations);
    }

    static ModelProto qdq(NpuProgram floatProgram, List<Map<String, Tensor>> calib, DType activations)
            throws Exception {
        Calibration c = Calibration.collect(floatProgram, calib, n -> {});
        return QdqWriter.write(floatProgram, c, new QuantConfig(activations, DType.INT8, true));
    }

    /** Op types (domain:op) of ORT's optimized graph at ALL_OPT. */
    static Map<String, Integer> ortOps(ModelProto qdq) throws Exception {
        Path tmp = Files.createTempFile("ortcheck", ".onnx");
        try {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions so = options()) {
                so.setOptimizedModelFilePath(tmp.toString());
                // Created for its side effect, the optimized model file.
                env.createSession(qdq.toByteArray(), so).close();
            }
            ModelProto m = ModelProto.parseFrom(Files.readAllBytes(tmp));
            Map<String, Integer> ops = new TreeMap<>();
            for (NodeProto n : m.getGraph().getNodeList()) {
                ops.merge((n.getDomain().isEmpty() ? "" : n.getDomain() + ":") + n.getOpType(), 1, Integer::sum);
            }
            return ops;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static OrtSession.SessionOptions options() throws Exception {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        so.setIntraOpNumThreads(1);
        return so;
    }

    /** ORT's graph outputs (float, as the final DequantizeLinear gives them). */
    static Map<String, float[]> runOrt(ModelProto qdq, Map<String, Tensor> feeds) throws Exception {
        try (OrtSession.SessionOptions so = options();
                OrtSession s = OrtEnvironment.getEnvironment().createSession(qdq.toByteArray(), so)) {
            return runOrt(s, feeds);
        }
    }

    private static Map<String, float[]> runOrt(OrtSession s, Map<String, Tensor> feeds) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
                int[] sh = e.getValue().shape();
                long[] shape = new long[sh.length];
                for (int i = 0; i < sh.length; i++) {
                    shape[i] = sh[i];
                }
                in.put(
                        e.getKey(),
                        OnnxTensor.createTensor(
                                env, FloatBuffer.wrap(e.getValue().floats()), shape));
            }
            Map<String, float[]> out = new HashMap<>();
            try (OrtSession.Result r = s.run(in)) {
                for (Map.Entry<String, OnnxValue> e : r) {
                    OnnxTensor t = (OnnxTensor) e.getValue();
                    FloatBuffer b = t.getFloatBuffer();
                    float[] f = new float[b.remaining()];
                    b.get(f);
                    out.put(e.getKey(), f);
                }
            }
            return out;
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    /**
     * Compares ORT's and the simulator's (requant: float) codes of every graph output, once the file
     * has passed {@link OnnxChecker}; one ORT session runs every input.
     */
    static Agreement compare(ModelProto qdq, List<Map<String, Tensor>> inputs) throws Exception {
        OnnxChecker.assertValid(qdq, "the QDQ file");
        NpuProgram p =
                Simulator.compile(qdq, "qdq", CompileOptions.of(DeviceProfile.DEFAULT.withRequant(RequantMode.FLOAT)));
        long equal = 0;
        long total = 0;
        int max = 0;
        try (OrtSession.SessionOptions so = options();
                OrtSession session = OrtEnvironment.getEnvironment().createSession(qdq.toByteArray(), so)) {
            for (Map<String, Tensor> feeds : inputs) {
                Map<String, float[]> ort = runOrt(session, feeds);
                Map<String, LayerValue> sim = p.run(feeds, LayerObserver.NONE);
                for (String out : p.outputs()) {
                    QTensor q = sim.get(out).codes();
                    float[] f = ort.get(out);
                    int[] c = q.codes();
                    if (f.length != c.length) {
                        throw new AssertionError(
                                out + ": ORT gives " + f.length + " values, the simulator " + c.length);
                    }
                    for (int i = 0; i < f.length; i++) {
                        int d = (int) Math.abs(q.params().quantize(f[i], 0) - c[i]);
                        if (d == 0) {
                            equal++;
                        }
                        max = Math.max(max, d);
                        total++;
                    }
                }
            }
        }
        return new Agreement(equal, total, max, ortOps(qdq));
    }

    static List<Map<String, Tensor>> samples(Random r, Map<String, int[]> inputs, int count, float lo, float hi) {
        List<Map<String, Tensor>> l = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            Map<String, Tensor> m = new HashMap<>();
            for (Map.Entry<String, int[]> e : inputs.entrySet()) {
                m.put(e.getKey(), random(r, e.getValue(), lo, hi));
            }
            l.add(m);
        }
        return l;
    }
}
