package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.input.Npy;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.tensor.DType;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gets a one-line error naming the problem, a non-zero exit, and no stack trace. */
class BadInputTest {
    @TempDir
    Path tmp;

    private Path espcn() {
        return SharedData.require("models/espcn_x3.onnx");
    }

    private Path image() {
        return SharedData.require("images/photos/chelsea.png");
    }

    private CliRun analyze(Path model, Path input, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("analyze", model.toString(), "--input", input.toString(),
                "--report", tmp.resolve("report").toString()));
        a.addAll(List.of(extra));
        return CliRun.of(a.toArray(String[]::new));
    }

    @Test
    void missingModelFile() {
        CliRun r = analyze(tmp.resolve("nope.onnx"), image());
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("nope.onnx"), r.err());
    }

    @Test
    void fileThatIsNotOnnx() throws Exception {
        Path bogus = Files.writeString(tmp.resolve("bogus.onnx"), "this is not a model\n");
        CliRun r = analyze(bogus, image());
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("is not an ONNX model"), r.err());
    }

    @Test
    void missingInputFile() {
        CliRun r = analyze(espcn(), tmp.resolve("missing.png"));
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("missing.png"), r.err());
    }

    @Test
    void npyOfTheWrongSize() throws Exception {
        Path npy = tmp.resolve("small.npy");
        Npy.write(npy, new int[] {1, 3, 10, 10}, new float[300]);
        CliRun r = analyze(espcn(), npy);
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("small.npy") && r.err().contains("96"), r.err());
    }

    @Test
    void unreachableDevice() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        CliRun r = analyze(espcn(), image(), "--device", "127.0.0.1:" + port);
        assertEquals(ExitCodes.DEVICE, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("127.0.0.1:" + port), r.err());
    }

    @Test
    void malformedDeviceAddress() {
        CliRun r = analyze(espcn(), image(), "--device", "localhost");
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("localhost"), r.err());
    }

    @Test
    void unsupportedOpsAreAllNamed() throws Exception {
        Graph g = new Graph("unsupported", List.of(
                new Node("relu_1", "Relu", "", List.of("x"), List.of("a"), Map.of()),
                new Node("einsum_7", "Einsum", "", List.of("a", "a"), List.of("b"),
                        Map.of("equation", Attribute.ofString("nchw,nchw->nchw"))),
                new Node("det_9", "Det", "", List.of("b"), List.of("y"), Map.of())),
                Map.of(), List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, 3, 96, 96})), List.of("y"),
                Map.of("", 13));
        Path model = tmp.resolve("unsupported.onnx");
        Files.write(model, OnnxGraphs.toModel(g, "test", Map.of()).toByteArray());
        CliRun r = analyze(model, image());
        assertEquals(ExitCodes.UNSUPPORTED, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("'einsum_7' (Einsum)") && r.err().contains("'det_9' (Det)"), r.err());
    }

    @Test
    void emptyCalibrationFolder() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        CliRun r = analyze(espcn(), image(), "--calib", empty.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("has no images"), r.err());
    }

    @Test
    void profileNamingAMissingLayer() throws Exception {
        Path p = Files.writeString(tmp.resolve("p.yaml"),
                "name: x\nfaults:\n  - kind: depth_to_space_mode_swap\n    layer: no_such_layer\n");
        CliRun r = analyze(espcn(), image(), "--profile", p.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("no_such_layer"), r.err());
    }

    @Test
    void verboseAddsTheStackTrace() {
        CliRun r = analyze(tmp.resolve("nope.onnx"), image(), "--verbose");
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.err().contains("\tat "), r.err());
    }
}
