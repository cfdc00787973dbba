package dev.layerprobe.simulator.profile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.LayerPrecision;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.quant.QuantConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Device faults live in the NPU: a layer the quantized program runs on the CPU computes correctly. */
class FaultPlacementTest {
    private static final int[] X = {1, 8, 4, 4};

    @Test
    void aDepthToSpaceKeptOnTheCpuIgnoresTheModeSwap() throws Exception {
        Map<String, Tensor> constants = new LinkedHashMap<>();
        constants.put("w", FaultKindsTest.random(new int[] {8, 8, 1, 1}, 7, -1, 1));
        List<Node> nodes = List.of(
                new Node("conv", "Conv", "", List.of("x", "w"), List.of("c"), Map.of()),
                new Node(
                        "d2s",
                        "DepthToSpace",
                        "",
                        List.of("c"),
                        List.of("y"),
                        Map.of("blocksize", Attribute.ofInt(2), "mode", Attribute.ofString("CRD"))));
        Graph g = new Graph(
                "d2s", nodes, constants, List.of(new ValueInfo("x", DType.FLOAT32, X)), List.of("y"), Map.of("", 13));
        NpuProgram floatProgram =
                Simulator.compile(OnnxGraphs.toModel(g, "test", Map.of()), "d2s", CompileOptions.DEFAULT);
        Map<String, Tensor> feed = Map.of("x", FaultKindsTest.random(X, 3, -1, 1));
        Calibration cal = Calibration.collect(floatProgram, List.of(feed), n -> {});
        DeviceProfile swap = DeviceProfile.parse("""
                name: x
                faults:
                  - kind: depth_to_space_mode_swap
                    op: DepthToSpace
                """, "test");

        ModelProto onNpu = QdqWriter.write(floatProgram, cal, QuantConfig.INT8);
        assertFalse(
                java.util.Arrays.equals(output(onNpu, DeviceProfile.DEFAULT, feed), output(onNpu, swap, feed)),
                "on the NPU the fault changes the layer");

        ModelProto onCpu =
                QdqWriter.write(floatProgram, cal, QuantConfig.INT8.withOverrides(Map.of("y", LayerPrecision.FLOAT32)));
        assertEquals(
                Placement.CPU,
                Simulator.compile(onCpu, "d2s", CompileOptions.of(swap))
                        .layer("y")
                        .orElseThrow()
                        .placement());
        assertArrayEquals(
                output(onCpu, DeviceProfile.DEFAULT, feed),
                output(onCpu, swap, feed),
                "a float32 layer on the CPU is computed as the model says");
    }

    private static float[] output(ModelProto model, DeviceProfile profile, Map<String, Tensor> feed)
            throws SimulatorException {
        NpuProgram p = Simulator.compile(model, "d2s", CompileOptions.of(profile));
        Map<String, LayerValue> out = new LinkedHashMap<>();
        p.run(feed, (layer, v) -> out.put(layer.name(), v));
        return out.get("y").real().floats();
    }
}
