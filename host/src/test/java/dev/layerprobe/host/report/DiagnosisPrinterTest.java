package dev.layerprobe.host.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.backend.OrtBackend;
import dev.layerprobe.agent.backend.SimBackend;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.simulator.profile.RequantMode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DiagnosisPrinterTest {
    private static final String REQUANT_NOTE = "Note: the device runs ONNX Runtime, whose integer kernels requantize";
    private static final String FLOAT_NOTE = "Note: the device runs the float model in ONNX Runtime";

    @Test
    void anOrtDeviceGetsTheRequantizationNoteUnlessTheSimulatorAlreadyRequantizesInFloat() {
        Report r = report(OrtBackend.NAME, null, exact());
        String other = print(r, true, RequantMode.FIXED);
        assertTrue(other.contains(REQUANT_NOTE), other);
        assertFalse(print(r, true, RequantMode.FLOAT).contains(REQUANT_NOTE));
        assertFalse(print(report(SimBackend.NAME, null, exact()), true, RequantMode.FIXED)
                .contains("Note:"));
    }

    @Test
    void aFloatRunOnOrtGetsTheRoundingNoteOnlyWithARuntimeFault() {
        Report.RuntimeFault fault = new Report.RuntimeFault("conv", "Conv", "cos 0.99990 against the simulator");
        String withFault = print(report(OrtBackend.NAME, fault, exact()), false, RequantMode.FIXED);
        assertTrue(withFault.contains(FLOAT_NOTE), withFault);
        assertTrue(withFault.indexOf("  Verdict:") < withFault.indexOf(FLOAT_NOTE), "notes follow the verdict");
        assertFalse(print(report(OrtBackend.NAME, null, exact()), false, RequantMode.FIXED)
                .contains("Note:"));
    }

    @Test
    void theInputSpreadNamesTheWorstInputByItsFile() {
        Metrics m = new Metrics();
        m.add(new float[] {1, 2, 3}, new float[] {1, 2, 3});
        m.endInput();
        m.add(new float[] {1, 2, 3}, new float[] {3, 2, 1});
        m.endInput();
        String out =
                print(report(SimBackend.NAME, null, m.result()), true, RequantMode.FIXED, List.of("a.png", "b.png"));
        assertTrue(out.contains("  Inputs: 2; at the last layer 'conv' entire cos is "), out);
        assertTrue(out.contains("at worst (b.png)"), out);
    }

    @Test
    void aComparisonNamesTheFaultWithItsOp() {
        assertEquals(" (Conv)", DiagnosisPrinter.opLabel(new Report.RuntimeFault("x", "Conv", "e")));
        assertEquals("", DiagnosisPrinter.opLabel(new Report.RuntimeFault("x", "", "e")));
        assertEquals("", DiagnosisPrinter.opLabel(new Report.RuntimeFault("x", null, "e")));
    }

    private static MetricResult exact() {
        return new Metrics().add(new float[] {1, 2}, new float[] {1, 2}).result();
    }

    private static Report report(String backend, Report.RuntimeFault fault, MetricResult entire) {
        List<Report.Layer> layers =
                List.of(new Report.Layer("conv", "Conv", new int[] {1, 3}, "npu", entire, entire, entire, entire));
        return new Report(
                "m.onnx",
                new Report.Device("emulated", backend, "default", List.of(), Map.of()),
                layers,
                new Report.RootCause(fault, List.of()),
                new Report.Summary(1, 0, 0, 0.99, 0.98, "verdict"));
    }

    private static String print(Report r, boolean quantized, RequantMode requant) {
        return print(r, quantized, requant, List.of("a.png"));
    }

    private static String print(Report r, boolean quantized, RequantMode requant, List<String> inputs) {
        StringWriter s = new StringWriter();
        PrintWriter out = new PrintWriter(s);
        new DiagnosisPrinter(out).printAnalysis(r, quantized, requant, inputs);
        out.flush();
        return s.toString();
    }
}
