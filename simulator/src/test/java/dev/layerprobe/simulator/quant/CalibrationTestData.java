package dev.layerprobe.simulator.quant;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/** A one-layer float program (x -> Relu -> r) and synthetic calibration sets, seeded seed + index. */
final class CalibrationTestData {
    private CalibrationTestData() {}

    /** x [1, n] -> Relu -> r. */
    static NpuProgram reluProgram(int n) throws Exception {
        Graph g = new Graph(
                "relu",
                List.of(new Node("relu", "Relu", "", List.of("x"), List.of("r"), Map.of())),
                Map.of(),
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, n})),
                List.of("r"),
                Map.of("", 13));
        ModelProto m = OnnxGraphs.toModel(g, "test", Map.of());
        return Simulator.compile(m, g.name(), CompileOptions.DEFAULT);
    }

    static List<Map<String, Tensor>> gaussian(int samples, int n, long seed) {
        return generate(samples, n, seed, r -> () -> gauss(r));
    }

    static List<Map<String, Tensor>> uniform(int samples, int n, long seed) {
        return generate(samples, n, seed, r -> () -> r.nextDouble() * 2 - 1);
    }

    /** Standard normal values with outliers: x[0] of sample i set to outliers[i] where given. */
    static List<Map<String, Tensor>> gaussianWithOutliers(int samples, int n, long seed, float... outliers) {
        List<Map<String, Tensor>> out = gaussian(samples, n, seed);
        for (int i = 0; i < outliers.length; i++) {
            out.get(i).get("x").floats()[0] = outliers[i];
        }
        return out;
    }

    private static List<Map<String, Tensor>> generate(
            int samples, int n, long seed, java.util.function.Function<SplittableRandom, DoubleSupplier> dist) {
        List<Map<String, Tensor>> out = new ArrayList<>();
        for (int s = 0; s < samples; s++) {
            DoubleSupplier d = dist.apply(new SplittableRandom(seed + s));
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) d.getAsDouble();
            }
            out.add(Map.of("x", Tensor.ofFloats(new int[] {1, n}, v)));
        }
        return out;
    }

    private static double gauss(SplittableRandom r) {
        double u = 1 - r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /** Mean squared error of quantizing every value of tensor x (or relu(x) for r) with the range. */
    static double quantizationMse(List<Map<String, Tensor>> samples, boolean relu, float[] range, DType type) {
        double[] sz = ClippingSearch.quantizer(range[0], range[1], type);
        double sum = 0;
        long count = 0;
        for (Map<String, Tensor> s : samples) {
            for (float v : s.get("x").floats()) {
                double x = relu ? Math.max(0, v) : v;
                double q = Math.max((double) type.min(), Math.min((double) type.max(), Math.rint(x / sz[0]) + sz[1]));
                double e = (q - sz[1]) * sz[0] - x;
                sum += e * e;
                count++;
            }
        }
        return sum / count;
    }
}
