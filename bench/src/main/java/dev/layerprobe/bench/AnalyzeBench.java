package dev.layerprobe.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.analyze.Analysis;
import dev.layerprobe.host.analyze.AnalysisOptions;
import dev.layerprobe.host.cli.AnalyzeCommand;
import dev.layerprobe.host.cli.UsageException;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputShapes;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.ValueInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * The steady-state wall time per input of {@code layerprobe analyze} over a folder of inputs,
 * against one ONNX Runtime float inference of the same model in the same process.
 *
 * <p>The analysis runs as the CLI runs it (the arguments after the model are {@code analyze}'s own,
 * parsed by its command line: int8 by default, the embedded emulated device, {@code --quantized},
 * preprocessing), with its report in a temporary folder unless {@code --report} is given. The JIT
 * keeps compiling well past the first inputs: methods called once per layer reach C2 only after
 * thousands of calls, and on {@code mobilenet_v2} C2 still took a fifth of the CPU forty inputs in,
 * a time per input that kept falling until about the 150th. So first the whole analysis runs
 * {@code --warmup-passes} times (default 2) over the same inputs in the same process, reports in a
 * temporary folder, untimed but for the mean per input each prints. Then the timed analysis: the pipeline reports each input as its
 * comparisons join the report, in input order; the first {@code --warmup-inputs} (default 8) are not
 * timed (the first input also keeps its dumps). The steady inputs that follow are timed in windows of {@link #WINDOW} consecutive
 * inputs (inputs overlap in the pipeline, so one input's own interval says little); the time per
 * input is the median of the windows' means. Then ONNX Runtime runs the float model on the first
 * input (every optimisation, as many intra-op threads as the simulator's parallel streams use,
 * no spinning) for 10 warm-ups and {@code --ort-runs} (default 50) timed runs; its median is the
 * other side. The last line is {@code ratio: X}, analyze's time per input over ORT's.
 *
 * <p>Usage: {@code AnalyzeBench MODEL --input DIR [--quantized QDQ] [--warmup-passes N]
 * [--warmup-inputs N] [--ort-runs N] [other analyze options]}. Exits 0 when the benchmark ran, 2 on a usage error, 1
 * when the analysis or ONNX Runtime failed.
 */
public final class AnalyzeBench {
    /** Consecutive steady inputs per timed window. */
    static final int WINDOW = 4;

    private static final int ORT_WARMUP = 10;
    private static final String USAGE = "usage: AnalyzeBench MODEL --input DIR [--quantized QDQ]"
            + " [--warmup-passes N] [--warmup-inputs N] [--ort-runs N] [analyze options]";

    private AnalyzeBench() {}

    public static void main(String[] args) {
        int warmupPasses = 2;
        int warmupInputs = 8;
        int ortRuns = 50;
        List<String> analyzeArgs = new ArrayList<>();
        boolean report = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--warmup-passes" -> warmupPasses = Integer.parseInt(value(args, ++i, "--warmup-passes"));
                    case "--warmup-inputs" -> warmupInputs = Integer.parseInt(value(args, ++i, "--warmup-inputs"));
                    case "--ort-runs" -> ortRuns = Integer.parseInt(value(args, ++i, "--ort-runs"));
                    default -> {
                        report |= args[i].equals("--report") || args[i].startsWith("--report=");
                        analyzeArgs.add(args[i]);
                    }
                }
            }
            if (warmupInputs < 1 || ortRuns < 1 || warmupPasses < 0) {
                throw new IllegalArgumentException(
                        "--warmup-inputs and --ort-runs must be >= 1, --warmup-passes >= 0");
            }
        } catch (RuntimeException e) {
            System.err.println("error: " + e.getMessage() + " (" + USAGE + ")");
            System.exit(2);
        }
        Path tmp = null;
        try {
            tmp = Files.createTempDirectory("layerprobe-bench-analyze-");
            if (!report) {
                analyzeArgs.add("--report");
                analyzeArgs.add(tmp.resolve("report").toString());
            }
            AnalysisOptions o;
            try {
                o = AnalyzeCommand.options(analyzeArgs.toArray(String[]::new));
            } catch (CommandLine.ParameterException e) {
                System.err.println("error: " + e.getMessage() + " (" + USAGE + ")");
                System.exit(2);
                return;
            }
            int steady = o.inputs().size() - warmupInputs;
            if (steady < WINDOW) {
                System.err.println("error: " + o.inputs().size() + " inputs leave " + Math.max(0, steady)
                        + " after " + warmupInputs + " warm-ups, need at least " + WINDOW
                        + " (give more inputs or a smaller --warmup-inputs)");
                System.exit(2);
            }
            List<String> lines = new ArrayList<>();
            for (int p = 1; p <= warmupPasses; p++) {
                lines.add(warmupPass(o.withReportDir(tmp.resolve("warmup-" + p)), p));
            }
            lines.addAll(run(o, warmupInputs, ortRuns));
            lines.forEach(System.out::println);
        } catch (InputException | UsageException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
        } catch (Exception e) {
            // LayerProbe's own failures carry one-line messages; anything else is a bug worth its type.
            System.err.println("error: " + (e instanceof LayerProbeException ? e.getMessage() : e.toString()));
            System.exit(1);
        } finally {
            if (tmp != null) {
                deleteTree(tmp);
            }
        }
    }

    /** One untimed analysis of the inputs, for the JIT: its line gives the wall time per input. */
    static String warmupPass(AnalysisOptions o, int pass) throws Exception {
        long start = System.nanoTime();
        long[] first = {0};
        new Analysis(o, new PrintWriter(Writer.nullWriter()), i -> {
                    if (i == 0) {
                        first[0] = System.nanoTime();
                    }
                })
                .run();
        long end = System.nanoTime();
        int n = o.inputs().size();
        return String.format(
                Locale.ROOT,
                "warm-up pass %d: %d inputs in %.1f s, %.1f ms per input after the first (not timed)",
                pass,
                n,
                (end - start) / 1e9,
                n > 1 ? (end - first[0]) / 1e6 / (n - 1) : Double.NaN);
    }

    static List<String> run(AnalysisOptions o, int warmupInputs, int ortRuns) throws Exception {
        int n = o.inputs().size();
        long[] done = new long[n];
        long[] cpu = new long[n];
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long start = System.nanoTime();
        new Analysis(o, new PrintWriter(Writer.nullWriter()), i -> {
                    done[i] = System.nanoTime();
                    cpu[i] = os.getProcessCpuTime();
                })
                .run();
        double totalSeconds = (System.nanoTime() - start) / 1e9;

        int windows = (n - warmupInputs) / WINDOW;
        double[] perInput = new double[windows];
        for (int w = 0; w < windows; w++) {
            int last = warmupInputs - 1 + (w + 1) * WINDOW;
            perInput[w] = (done[last] - done[last - WINDOW]) / 1e6 / WINDOW;
        }
        double[] sorted = perInput.clone();
        Arrays.sort(sorted);
        double analyzeMs = median(sorted);
        int timed = windows * WINDOW;
        double meanMs = (done[warmupInputs - 1 + timed] - done[warmupInputs - 1]) / 1e6 / timed;
        // CPU time of the whole process (every thread, JIT and GC included) per steady input: on a
        // loaded machine the wall time also counts waiting for a core.
        double cpuMs = (cpu[warmupInputs - 1 + timed] - cpu[warmupInputs - 1]) / 1e6 / timed;

        StringBuilder each = new StringBuilder();
        for (double w : perInput) {
            each.append(String.format(Locale.ROOT, " %.0f", w));
        }
        StringBuilder warm = new StringBuilder();
        for (int i = 1; i < warmupInputs; i++) {
            warm.append(String.format(Locale.ROOT, " %.0f", (done[i] - done[i - 1]) / 1e6));
        }
        double[] ort = ortMillis(o, ortRuns);
        double ortMs = median(ort);
        return List.of(
                String.format(
                        Locale.ROOT,
                        "%s: %d inputs in %.1f s (setup, calibration and report included); %d warm-up inputs,"
                                + " %d timed in %d windows of %d",
                        o.model().getFileName(),
                        n,
                        totalSeconds,
                        warmupInputs,
                        timed,
                        windows,
                        WINDOW),
                "warm-up inputs 2 to " + warmupInputs + ", ms each (the first also keeps the dumps):" + warm,
                "timed windows in order, ms per input:" + each,
                String.format(
                        Locale.ROOT,
                        "analyze: %.1f ms per input (median of windows), mean %.1f ms, windows %.1f to %.1f ms;"
                                + " process CPU %.1f ms per input",
                        analyzeMs,
                        meanMs,
                        sorted[0],
                        sorted[sorted.length - 1],
                        cpuMs),
                String.format(
                        Locale.ROOT,
                        "onnxruntime (float): %.2f ms (median of %d), p90 %.2f ms",
                        ortMs,
                        ortRuns,
                        FloatSimulatorBench.percentile(ort, 90)),
                String.format(Locale.ROOT, "ratio: %.2f", analyzeMs / ortMs));
    }

    /** Sorted wall times of ONNX Runtime float inferences of the model on the first input, after warm-ups. */
    private static double[] ortMillis(AnalysisOptions o, int runs) throws Exception {
        ValueInfo in =
                Simulator.compile(o.model(), CompileOptions.DEFAULT).inputs().get(0);
        int[] shape = InputShapes.resolve(in, o.inputShapes().get(in.name()), o.size());
        Tensor input = InputLoader.load(o.inputs().get(0), shape, o.spec());
        int threads = ForkJoinPool.commonPool().getParallelism() + 1;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = FloatSimulatorBench.sessionOptions(threads);
                OrtSession session = env.createSession(o.model().toString(), options);
                OnnxTensor t = FloatSimulatorBench.toOrt(env, in.name(), input)) {
            Map<String, OnnxTensor> feeds = Map.of(in.name(), t);
            for (int i = 0; i < ORT_WARMUP; i++) {
                runOrt(session, feeds);
            }
            double[] ms = new double[runs];
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                runOrt(session, feeds);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(ms);
            return ms;
        }
    }

    private static void runOrt(OrtSession session, Map<String, OnnxTensor> feeds) throws OrtException {
        session.run(feeds).close();
    }

    private static double median(double[] sorted) {
        int m = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static void deleteTree(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        } catch (IOException e) {
            System.err.println("warning: could not remove " + p + ": " + e.getMessage());
        }
    }
}
