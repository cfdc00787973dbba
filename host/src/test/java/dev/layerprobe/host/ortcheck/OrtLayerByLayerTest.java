package dev.layerprobe.host.ortcheck;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.backend.LoadedModel;
import dev.layerprobe.agent.backend.OrtBackend;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.OrtInt8;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.RequantMode;
import dev.layerprobe.simulator.quant.LayerPrecision;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * tiny_transformer, quantized as {@code quantize} does it, layer by layer: ONNX Runtime runs the QDQ
 * file with every layer exposed (the ort backend), and the simulator in {@code requant: float}
 * mode runs each layer alone on ORT's inputs to it; every layer's codes must equal ORT's. Where
 * {@link QuantizedSharedModelsTest} sees 10 logits per input, this sees every code of every
 * kernel ORT runs its own way (QLinearConv, float MatMul by float weights, QLinearMatMul,
 * QLinearSoftmax, LayerNormalization, Erf, Div, QGemm, ReduceMean, QLinearAdd), so a kernel that
 * drifts is named, not diluted into a fraction of the logits.
 */
class OrtLayerByLayerTest {
    private static final int INPUTS = 3;

    @ParameterizedTest
    @EnumSource(
            value = LayerPrecision.class,
            names = {"INT8", "UINT8"})
    void everyTinyTransformerLayerEqualsOnnxRuntime(LayerPrecision precision) throws Exception {
        QuantizedSharedModelsTest.Quantized m =
                QuantizedSharedModelsTest.quantize("tiny_transformer", "calib224", 8, "imagenet", null, precision);
        OrtInt8.assumeExactKernels();
        NpuProgram p = Simulator.compile(
                m.qdq(), "qdq", CompileOptions.of(DeviceProfile.DEFAULT.withRequant(RequantMode.FLOAT)));
        // Per layer: codes compared, codes equal, largest difference.
        Map<String, long[]> stats = new LinkedHashMap<>();
        long total = 0;
        try (OrtBackend backend = new OrtBackend();
                LoadedModel loaded = backend.load(m.qdq().toByteArray(), "tiny_transformer-" + precision)) {
            // Photos and calibration images alternately, from the end of the list and its start.
            List<Map<String, Tensor>> inputs = m.inputs();
            for (int i = 0; i < INPUTS; i++) {
                Map<String, Tensor> feed = inputs.get(i % 2 == 0 ? inputs.size() - 1 - i : i);
                Map<String, LayerValue> ort = new HashMap<>();
                loaded.run(feed, (layer, value) -> ort.put(layer.name(), value));
                Map<String, LayerValue> sim = new LinkedHashMap<>();
                p.runPerLayer(
                        t -> feed.containsKey(t) ? feed.get(t) : ort.get(t).real(),
                        (layer, value) -> sim.put(layer.name() + " (" + layer.opLabel() + ")", value));
                for (Map.Entry<String, LayerValue> e : sim.entrySet()) {
                    String name = e.getKey().substring(0, e.getKey().indexOf(" ("));
                    LayerValue o = ort.get(name);
                    assertTrue(
                            o != null && o.isQuantized() && e.getValue().isQuantized(),
                            name + " is a quantized layer in both");
                    int[] a = o.codes().codes();
                    int[] b = e.getValue().codes().codes();
                    long[] st = stats.computeIfAbsent(e.getKey(), k -> new long[3]);
                    for (int j = 0; j < a.length; j++) {
                        int d = Math.abs(a[j] - b[j]);
                        st[0]++;
                        st[1] += d == 0 ? 1 : 0;
                        st[2] = Math.max(st[2], d);
                    }
                    total += a.length;
                }
            }
        }
        List<String> differing = new ArrayList<>();
        stats.forEach((layer, s) -> {
            if (s[1] != s[0]) {
                differing.add(String.format("%s: %d/%d equal, max %d LSB", layer, s[1], s[0], s[2]));
            }
        });
        System.out.printf(
                "tiny_transformer %s: %d layers, %d codes over %d inputs, %d layers differ%n",
                precision, stats.size(), total, INPUTS, differing.size());
        assertTrue(stats.size() > 60, "every layer compared: " + stats.keySet());
        assertTrue(
                differing.isEmpty(), "layers whose codes differ from ONNX Runtime's:\n" + String.join("\n", differing));
    }
}
