package dev.layerprobe.host.golden;

import static dev.layerprobe.host.golden.OnnxNodes.intAttr;
import static dev.layerprobe.host.golden.OnnxNodes.ints;
import static dev.layerprobe.host.golden.OnnxNodes.node;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.onnx.TensorProtos;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A graph of the shape other exporters write, in float, against ONNX Runtime: opset 11, a 5x5
 * depthwise Conv with dilation 2 and stride 2 and a large 3x3 depthwise Conv (both on the
 * zero-padded tap path), then two Gemms with transB that share one weight initializer (the second
 * run of a Gemm takes its kept transpose). Three runs on different inputs, every layer compared.
 */
class DepthwiseAndGemmVsOrtTest {
    private static final int[] X = {1, 8, 41, 43};

    @Test
    void everyLayerMatchesOnnxRuntimeOverRepeatedRuns() throws Exception {
        ModelProto model = model();
        NpuProgram sim = Simulator.compile(model, "dwgemm.onnx", CompileOptions.DEFAULT);
        try (GoldenRunner golden = GoldenRunner.of(model, "dwgemm.onnx")) {
            for (int run = 0; run < 3; run++) {
                Map<String, Tensor> feeds = Map.of("x", weights(100 + run, X));
                Map<String, Tensor> g = golden.run(feeds);
                List<String> compared = new ArrayList<>();
                List<String> worse = new ArrayList<>();
                sim.run(feeds, (layer, v) -> {
                    Tensor ref = g.get(layer.name());
                    assertNotNull(ref, "no golden value for " + layer.name());
                    MetricResult m = Metrics.compare(ref, v.real());
                    compared.add(layer.name());
                    if (m.cos() < 0.999999 || m.maxAbs() > 1e-4) {
                        worse.add(layer.name() + " cos " + m.cos() + " max|diff| " + m.maxAbs());
                    }
                });
                assertTrue(worse.isEmpty(), "run " + run + ": " + worse);
                assertTrue(compared.containsAll(List.of("dw5", "dw3", "fc_a", "fc_b")), compared.toString());
            }
        }
    }

    private static ModelProto model() {
        GraphProto g = GraphProto.newBuilder()
                .setName("dwgemm")
                .addInput(OnnxGraphs.valueInfoProto("x", DType.FLOAT32, X))
                .addInitializer(TensorProtos.fromTensor("w5", weights(1, 8, 1, 5, 5)))
                .addInitializer(TensorProtos.fromTensor("b5", weights(2, 8)))
                .addInitializer(TensorProtos.fromTensor("w3", weights(3, 8, 1, 3, 3)))
                .addInitializer(TensorProtos.fromTensor("fc_w", weights(4, 10, 8)))
                .addInitializer(TensorProtos.fromTensor("fc_c", weights(5, 10)))
                .addNode(node(
                        "Conv",
                        "dw5_node",
                        List.of("x", "w5", "b5"),
                        "dw5",
                        ints("dilations", 2, 2),
                        ints("strides", 2, 2),
                        ints("pads", 4, 3, 4, 5),
                        intAttr("group", 8)))
                .addNode(node(
                        "Conv", "dw3_node", List.of("dw5", "w3"), "dw3", ints("pads", 1, 1, 1, 1), intAttr("group", 8)))
                .addNode(node("GlobalAveragePool", "gap_node", List.of("dw3"), "gap"))
                .addNode(node("Flatten", "flat_node", List.of("gap"), "flat"))
                .addNode(node("Gemm", "fc_a_node", List.of("flat", "fc_w", "fc_c"), "fc_a", intAttr("transB", 1)))
                .addNode(node("Gemm", "fc_b_node", List.of("flat", "fc_w"), "fc_b", intAttr("transB", 1)))
                .addOutput(OnnxGraphs.valueInfoProto("fc_a", DType.FLOAT32, new int[] {1, 10}))
                .addOutput(OnnxGraphs.valueInfoProto("fc_b", DType.FLOAT32, new int[] {1, 10}))
                .build();
        return ModelProto.newBuilder()
                .setIrVersion(6)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(11))
                .setGraph(g)
                .build();
    }

    private static Tensor weights(int seed, int... shape) {
        Random r = new Random(seed);
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian() * 0.3f;
        }
        return Tensor.ofFloats(shape, v);
    }
}
