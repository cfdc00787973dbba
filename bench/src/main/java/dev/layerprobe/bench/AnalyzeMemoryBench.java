package dev.layerprobe.bench;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.NpyWriter;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * {@code layerprobe analyze} of a model whose float dumps are several times the analysing JVM's
 * heap: it builds a chain of {@code --layers} 1x1 Conv+Relu layers (8 channels, seeded weights)
 * on a {@code --height} x {@code --width} input, writes it and a seeded input, runs
 * {@code analyze} in a child JVM with {@code -Xmx} {@code --xmx} (the whole default pipeline:
 * calibration, quantization, golden in ONNX Runtime, simulator, the embedded device over gRPC, the
 * dumps and the report), and prints the exit code, the time, the size of the float32 golden dump
 * next to the heap limit, and their ratio.
 *
 * <p>Usage: {@code AnalyzeMemoryBench [--xmx 256m] [--layers 64] [--height 512] [--width 1024]
 * [--keep DIR]}; the defaults make about 1 GiB of float dumps for a 256 MiB heap. Exit code: the
 * child's.
 */
public final class AnalyzeMemoryBench {
    private static final int CHANNELS = 8;

    private AnalyzeMemoryBench() {}

    public static void main(String[] args) throws Exception {
        String xmx = "256m";
        int layers = 64;
        int height = 512;
        int width = 1024;
        Path keep = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--xmx" -> xmx = args[++i];
                case "--layers" -> layers = Integer.parseInt(args[++i]);
                case "--height" -> height = Integer.parseInt(args[++i]);
                case "--width" -> width = Integer.parseInt(args[++i]);
                case "--keep" -> keep = Path.of(args[++i]);
                default -> {
                    System.err.println("analyze-memory: unexpected argument '" + args[i] + "'; usage: analyze-memory"
                            + " [--xmx 256m] [--layers N] [--height N] [--width N] [--keep DIR]");
                    System.exit(2);
                }
            }
        }
        Path dir = keep != null ? Files.createDirectories(keep) : Files.createTempDirectory("layerprobe-bigmodel-");
        try {
            Path model = dir.resolve("conv_chain.onnx");
            Files.write(
                    model,
                    OnnxGraphs.toModel(chain(layers, height, width), "layerprobe-bench", Map.of())
                            .toByteArray());
            Path input = dir.resolve("input.npy");
            writeInput(input, height, width);
            Path report = dir.resolve("report");
            List<String> cmd = List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx" + xmx,
                    "-XX:+UseParallelGC", // the collector the layerprobe launcher gives the CLI
                    "-cp",
                    System.getProperty("java.class.path"),
                    "dev.layerprobe.host.cli.LayerProbeCli",
                    "analyze",
                    model.toString(),
                    "--input",
                    input.toString(),
                    "--report",
                    report.toString());
            System.out.printf(
                    Locale.ROOT,
                    "analyze-memory: %d Conv+Relu layers of 1x%dx%dx%d, child JVM -Xmx%s%n",
                    layers,
                    CHANNELS,
                    height,
                    width,
                    xmx);
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            List<String> tail = new ArrayList<>();
            try (var lines = p.inputReader().lines()) {
                lines.forEach(l -> {
                    tail.add(l);
                    if (tail.size() > 12) {
                        tail.remove(0);
                    }
                });
            }
            int exit = p.waitFor();
            double seconds = (System.nanoTime() - t0) / 1e9;
            long golden = npyBytes(report.resolve("dumps/golden"));
            long all = npyBytes(report.resolve("dumps"));
            long heap = parseSize(xmx);
            if (exit != 0) {
                tail.forEach(l -> System.out.println("  | " + l));
            }
            System.out.printf(Locale.ROOT, "analyze exit code %d in %.1f s%n", exit, seconds);
            System.out.printf(
                    Locale.ROOT,
                    "float dumps (golden, float32): %.0f MiB; all dumps: %.0f MiB; heap limit" + " -Xmx%s = %.0f MiB%n",
                    golden / 1048576.0,
                    all / 1048576.0,
                    xmx,
                    heap / 1048576.0);
            System.out.printf(Locale.ROOT, "float dumps / Xmx: %.1f%n", (double) golden / heap);
            System.exit(exit);
        } finally {
            if (keep == null) {
                deleteTree(dir);
            }
        }
    }

    /** input -> (Conv 1x1 -> Relu) x layers, He-initialised from a fixed seed. */
    static Graph chain(int layers, int height, int width) {
        SplittableRandom rng = new SplittableRandom(7);
        List<Node> nodes = new ArrayList<>();
        Map<String, Tensor> constants = new LinkedHashMap<>();
        String x = "input";
        for (int i = 0; i < layers; i++) {
            float[] w = new float[CHANNELS * CHANNELS];
            for (int j = 0; j < w.length; j++) {
                w[j] = (float) (gaussian(rng) * Math.sqrt(2.0 / CHANNELS));
            }
            float[] b = new float[CHANNELS];
            for (int j = 0; j < b.length; j++) {
                b[j] = (float) (gaussian(rng) * 0.05);
            }
            constants.put("w" + i, Tensor.ofFloats(new int[] {CHANNELS, CHANNELS, 1, 1}, w));
            constants.put("b" + i, Tensor.ofFloats(new int[] {CHANNELS}, b));
            Map<String, Attribute> attrs = new LinkedHashMap<>();
            attrs.put("kernel_shape", Attribute.ofInts(1, 1));
            nodes.add(new Node(
                    "conv" + i, "Conv", "", List.of(x, "w" + i, "b" + i), List.of("conv" + i + "_out"), attrs));
            String y = i == layers - 1 ? "output" : "relu" + i + "_out";
            nodes.add(new Node("relu" + i, "Relu", "", List.of("conv" + i + "_out"), List.of(y), Map.of()));
            x = y;
        }
        return new Graph(
                "conv_chain",
                nodes,
                constants,
                List.of(new ValueInfo("input", DType.FLOAT32, new int[] {1, CHANNELS, height, width})),
                List.of("output"),
                Map.of("", 13));
    }

    private static void writeInput(Path file, int height, int width) throws IOException {
        SplittableRandom rng = new SplittableRandom(11);
        try (NpyWriter w = NpyWriter.open(file, DType.FLOAT32, new int[] {1, CHANNELS, height, width})) {
            ByteBuffer row = ByteBuffer.allocate(width * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < CHANNELS * height; r++) {
                row.clear();
                for (int c = 0; c < width; c++) {
                    row.putFloat((float) gaussian(rng));
                }
                w.write(row.array());
            }
        }
    }

    private static double gaussian(SplittableRandom rng) {
        double u = 1.0 - rng.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
    }

    private static long npyBytes(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".npy"))
                    .mapToLong(p -> p.toFile().length())
                    .sum();
        }
    }

    private static long parseSize(String s) {
        char unit = Character.toLowerCase(s.charAt(s.length() - 1));
        long n = Long.parseLong(Character.isDigit(unit) ? s : s.substring(0, s.length() - 1));
        return switch (unit) {
            case 'k' -> n << 10;
            case 'm' -> n << 20;
            case 'g' -> n << 30;
            default -> n;
        };
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
