package dev.layerprobe.host.ortcheck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.backend.LoadedModel;
import dev.layerprobe.agent.backend.OrtBackend;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The ort backend asks ONNX Runtime for every quantized layer of a QDQ model; that must not change
 * how ONNX Runtime runs it. On each shared model, the backend's last layer (the graph output's
 * codes, dequantized) equals the graph output of a plain ONNX Runtime session on the same file,
 * value for value.
 */
class OrtBackendExposureTest {
    @ParameterizedTest
    @CsvSource({"mobilenet_v2, INT8", "mobilenet_v2, UINT8", "mobilepose_like, INT8", "espcn_x3, INT8"})
    void exposingEveryLayerLeavesTheGraphOutputUnchanged(String model, DType activations) throws Exception {
        Path file = SharedData.require("models/" + model + ".onnx");
        Path calibDir = SharedData.require("images/calib224");
        Path photo = SharedData.require("images/photos/astronaut.png");
        NpuProgram fp = Simulator.compile(file, CompileOptions.DEFAULT);
        String input = fp.inputs().get(0).name();
        int[] shape = fp.inputs().get(0).shape();
        List<Map<String, Tensor>> calib = new ArrayList<>();
        try (Stream<Path> s = Files.list(calibDir)) {
            for (Path p : s.sorted().limit(4).toList()) {
                calib.add(Map.of(input, InputLoader.load(p, shape, InputSpec.IMAGENET)));
            }
        }
        ModelProto qdq = OrtCheck.qdq(fp, calib, activations);
        Map<String, Tensor> feed = Map.of(input, InputLoader.load(photo, shape, InputSpec.IMAGENET));
        String output = qdq.getGraph().getOutput(0).getName();

        float[] plain = OrtCheck.runOrt(qdq, feed).get(output);
        Map<String, LayerValue> layers = new HashMap<>();
        try (OrtBackend backend = new OrtBackend();
                LoadedModel loaded = backend.load(qdq.toByteArray(), model + "-" + activations)) {
            loaded.run(feed, (layer, value) -> layers.put(layer.name(), value));
        }

        LayerValue last = layers.get(output);
        assertNotNull(last, "the graph output is one of the layers: " + layers.keySet());
        assertTrue(last.isQuantized(), output + " comes as codes");
        assertArrayEquals(plain, last.real().floats(), 0f, model + " " + activations);
        assertTrue(
                layers.size() >= fp.layers().size() / 2,
                layers.size() + " layers for " + fp.layers().size());
    }
}
