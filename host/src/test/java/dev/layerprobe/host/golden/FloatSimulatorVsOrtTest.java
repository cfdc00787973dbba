package dev.layerprobe.host.golden;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The simulator's float path against ONNX Runtime on a whole real network, layer by layer. */
class FloatSimulatorVsOrtTest {

    @Test
    void mobilenetV2MatchesOnnxRuntime() throws Exception {
        Path model = SharedData.require("models/mobilenet_v2.onnx");
        Path image = SharedData.require("images/photos/chelsea.png");
        NpuProgram sim = Simulator.compile(model, CompileOptions.DEFAULT);
        Tensor x = InputLoader.load(image, new int[] {1, 3, 224, 224}, InputSpec.IMAGENET);
        Map<String, Tensor> feeds = Map.of("input", x);
        List<String> worse = new ArrayList<>();
        double[] finalCos = {Double.NaN};
        try (GoldenRunner golden = GoldenRunner.open(model)) {
            Map<String, Tensor> g = golden.run(feeds);
            sim.run(feeds, (layer, v) -> {
                double cos = Metrics.compare(g.get(layer.name()), v.real()).cos();
                if (cos < 0.99999) {
                    worse.add(layer.name() + " cos " + cos);
                }
                if (layer.name().equals("logits")) {
                    finalCos[0] = cos;
                }
            });
        }
        assertTrue(finalCos[0] >= 0.9999, "final output cos " + finalCos[0]);
        assertTrue(worse.isEmpty(), "layers below cos 0.99999: " + worse);
    }
}
