package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.awt.image.BufferedImage;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gets a one-line error naming the problem, a non-zero exit, and no stack trace. */
class BadInputTest {
    @TempDir
    Path tmp;

    /** A small supported model made here, so these tests need nothing from ../shared. */
    private Path espcn() throws Exception {
        Path p = tmp.resolve("tiny.onnx");
        if (!Files.exists(p)) {
            float[] w = new float[4 * 3 * 3 * 3];
            for (int i = 0; i < w.length; i++) {
                w[i] = ((i * 37) % 11 - 5) / 10f;
            }
            Graph g = new Graph(
                    "tiny",
                    List.of(
                            new Node(
                                    "conv",
                                    "Conv",
                                    "",
                                    List.of("x", "w"),
                                    List.of("c"),
                                    Map.of(
                                            "pads",
                                            Attribute.ofInts(1, 1, 1, 1),
                                            "kernel_shape",
                                            Attribute.ofInts(3, 3))),
                            new Node("relu", "Relu", "", List.of("c"), List.of("y"), Map.of())),
                    Map.of("w", Tensor.ofFloats(new int[] {4, 3, 3, 3}, w)),
                    List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, 3, 96, 96})),
                    List.of("y"),
                    Map.of("", 13));
            Files.write(p, OnnxGraphs.toModel(g, "test", Map.of()).toByteArray());
        }
        return p;
    }

    private Path image() throws Exception {
        Path p = tmp.resolve("image.png");
        if (!Files.exists(p)) {
            BufferedImage img = new BufferedImage(120, 100, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 100; y++) {
                for (int x = 0; x < 120; x++) {
                    img.setRGB(x, y, (x * 2) << 16 | (y * 2) << 8 | ((x + y) & 0xFF));
                }
            }
            ImageIO.write(img, "png", p.toFile());
        }
        return p;
    }

    private CliRun analyze(Path model, Path input, String... extra) throws Exception {
        List<String> a = new java.util.ArrayList<>(List.of(
                "analyze",
                model.toString(),
                "--input",
                input.toString(),
                "--report",
                tmp.resolve("report").toString()));
        a.addAll(List.of(extra));
        return CliRun.of(a.toArray(String[]::new));
    }

    @Test
    void smoothQuantStrengthOutOfRange() throws Exception {
        CliRun r = analyze(espcn(), image(), "--smooth-quant", "1.5");
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("--smooth-quant ALPHA must be in (0, 1], got 1.5"), r.err());
    }

    @Test
    void missingModelFile() throws Exception {
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
    void missingInputFile() throws Exception {
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

    /** A loopback port nothing listens on. */
    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private Path calibrationFolder() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("calib"));
        for (int i = 0; i < 8; i++) {
            Files.copy(image(), dir.resolve("c" + i + ".png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return dir;
    }

    @Test
    void unreachableDeviceFailsBeforeCalibrating() throws Exception {
        int port = closedPort();
        long t0 = System.nanoTime();
        CliRun r = analyze(
                espcn(),
                image(),
                "--device",
                "127.0.0.1:" + port,
                "--calib",
                calibrationFolder().toString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(ExitCodes.DEVICE, r.exit(), r.err());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("cannot reach device at 127.0.0.1:" + port), r.err());
        assertTrue(!r.out().contains("calibrating") && !r.out().contains("quantized"), r.out());
        assertTrue(seconds < 10, "took " + seconds + " s");
    }

    @Test
    void checkInputWithUnreachableDeviceFailsBeforeCalibrating() throws Exception {
        int port = closedPort();
        long t0 = System.nanoTime();
        CliRun r = CliRun.of(
                "check-input", espcn().toString(), "--input", image().toString(), "--device", "127.0.0.1:" + port);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(ExitCodes.DEVICE, r.exit(), r.err());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("cannot reach device at 127.0.0.1:" + port), r.err());
        assertTrue(!r.out().contains("calibrating"), r.out());
        assertTrue(seconds < 10, "took " + seconds + " s");
    }

    @Test
    void reportThatIsAFile() throws Exception {
        Path file = Files.writeString(tmp.resolve("out.txt"), "not a folder\n");
        CliRun r = CliRun.of("analyze", espcn().toString(), "--input", image().toString(), "--report", file.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("--report " + file + ": it exists and is not a folder"), r.err());
        assertEquals("not a folder\n", Files.readString(file));

        CliRun under = CliRun.of(
                "analyze",
                espcn().toString(),
                "--input",
                image().toString(),
                "--report",
                file.resolve("sub").toString());
        assertEquals(ExitCodes.BAD_INPUT, under.exit(), under.err());
        assertTrue(under.oneLineError(), under.err());
        assertTrue(under.err().contains(file + " exists and is not a folder"), under.err());

        CliRun compare = CliRun.of("compare", tmp.toString(), tmp.toString(), "--report", file.toString());
        assertEquals(ExitCodes.BAD_INPUT, compare.exit(), compare.err());
        assertTrue(compare.err().contains("it exists and is not a folder"), compare.err());
    }

    @Test
    void malformedDeviceAddress() throws Exception {
        CliRun r = analyze(espcn(), image(), "--device", "localhost");
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("localhost"), r.err());
    }

    @Test
    void unsupportedOpsAreAllNamed() throws Exception {
        Graph g = new Graph(
                "unsupported",
                List.of(
                        new Node("relu_1", "Relu", "", List.of("x"), List.of("a"), Map.of()),
                        new Node("bernoulli_7", "Bernoulli", "", List.of("a"), List.of("b"), Map.of()),
                        new Node("det_9", "Det", "", List.of("b"), List.of("y"), Map.of())),
                Map.of(),
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, 3, 96, 96})),
                List.of("y"),
                Map.of("", 13));
        Path model = tmp.resolve("unsupported.onnx");
        Files.write(model, OnnxGraphs.toModel(g, "test", Map.of()).toByteArray());
        CliRun r = analyze(model, image());
        assertEquals(ExitCodes.UNSUPPORTED, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("'bernoulli_7' (Bernoulli)") && r.err().contains("'det_9' (Det)"), r.err());
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
        Path p = Files.writeString(
                tmp.resolve("p.yaml"),
                "name: x\nfaults:\n  - kind: depth_to_space_mode_swap\n    layer: no_such_layer\n");
        CliRun r = analyze(espcn(), image(), "--profile", p.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("no_such_layer"), r.err());
    }

    @Test
    void verboseAddsTheStackTrace() throws Exception {
        CliRun r = analyze(tmp.resolve("nope.onnx"), image(), "--verbose");
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.err().contains("\tat "), r.err());
    }
}
