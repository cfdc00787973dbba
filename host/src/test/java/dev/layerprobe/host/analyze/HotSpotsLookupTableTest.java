package dev.layerprobe.host.analyze;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.compiler.Placements;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.kernels.FloatKernels;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.ops.OpTraits;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.quant.QuantConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The hot-spot diagnosis of a lookup-table layer agrees with the simulator's op table. */
class HotSpotsLookupTableTest {
    private static Layer layer(String op, Placement placement) {
        return new Layer(
                0,
                "t",
                op,
                List.of("x"),
                List.of("t"),
                List.of("n"),
                List.of(),
                Map.of(),
                placement,
                QuantParams.perTensor(DType.INT8, 0.1f, 0));
    }

    @Test
    void everyOpAndPatternIsATableExactlyWhenTheCompilerRunsItAsOne() {
        List<String> names = new ArrayList<>(FloatKernels.supportedOps());
        OpTraits.patterns().forEach(p -> names.add(p.name()));
        for (String op : names) {
            Placement placed = Placements.placement(op);
            assertEquals(OpTraits.of(op).lutEligible(), HotSpots.isLookupTable(layer(op, placed)), op);
            assertFalse(HotSpots.isLookupTable(layer(op, Placement.CPU)), op + " on the CPU runs its float kernel");
        }
        for (OpTraits.Pattern p : OpTraits.patterns()) {
            assertTrue(HotSpots.isLookupTable(layer(p.name(), Placements.placement(p.name()))), p.name());
        }
        // The compiler names x * sigmoid(x) SiLU, and runs Softsign and Selu on the CPU.
        assertTrue(HotSpots.isLookupTable(layer("SiLU", Placement.NPU)));
        assertFalse(HotSpots.isLookupTable(layer("Softsign", Placements.placement("Softsign"))));
        assertFalse(HotSpots.isLookupTable(layer("Selu", Placements.placement("Selu"))));
    }

    @Test
    void aSiluLayerOfAQuantizedProgramIsDiagnosedAsATable() throws Exception {
        float[] x = new float[256];
        for (int i = 0; i < x.length; i++) {
            x[i] = -6 + 12f * i / (x.length - 1);
        }
        Map<String, Tensor> feed = Map.of("x", Tensor.ofFloats(new int[] {1, x.length}, x));
        Graph g = new Graph(
                "silu",
                List.of(
                        new Node("s", "Sigmoid", "", List.of("x"), List.of("t"), Map.of()),
                        new Node("m", "Mul", "", List.of("x", "t"), List.of("y"), Map.of())),
                Map.of(),
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, x.length})),
                List.of("y"),
                Map.of("", 13));
        NpuProgram fp = Simulator.compile(OnnxGraphs.toModel(g, "test", Map.of()), "silu", CompileOptions.DEFAULT);
        ModelProto qdq = QdqWriter.write(fp, Calibration.collect(fp, List.of(feed), n -> {}), QuantConfig.INT8);
        NpuProgram sim = Simulator.compile(qdq, "silu.qdq", CompileOptions.DEFAULT);
        Layer silu = sim.layer("y").orElseThrow();
        assertEquals("SiLU", silu.op());
        List<Report.HotSpot> d = HotSpots.diagnose(
                List.of(new Report.Layer(
                        "y", "SiLU", new int[] {1, x.length}, "npu", null, HotSpotsTest.cos(0.99), null, null)),
                new HotSpots.Sources(sim, fp, qdq, List.of(feed)));
        assertEquals("a nonlinear op as a 256-entry lookup table", d.get(0).cause());
        assertTrue(d.get(0).fix().contains("int16"), d.get(0).fix());
    }
}
