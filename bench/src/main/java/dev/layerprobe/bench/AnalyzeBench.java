package dev.layerprobe.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.layerprobe.agent.NettyDefaults;
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
 * temporary folder, untimed but for the mean per input each prints. Then {@code --timed-passes}
 * (default 3) timed analyses, each followed by a block of ONNX Runtime runs, so that both sides are
 * measured in the same minutes of a shared machine (ORT's own median moved between 3.6 and 6.5 ms
 * from one run of the benchmark to the next when it ran once, after everything). In a timed
 * analysis the pipeline reports each input as its comparisons join the report, in input order; the
 * first {@code --warmup-inputs} (default 8) are not timed (the first input also keeps its dumps).
 * The steady inputs that follow are timed in windows of {@link #WINDOW} consecutive inputs (inputs
 * overlap in the pipeline, so one input's own interval says little). ONNX Runtime runs the float
 * model on the first input (every optimisation, as many intra-op threads as the simulator's
 * parallel streams use, no spinning), 10 warm-ups when its session opens, then {@code --ort-runs}
 * (default 50) timed runs after each timed analysis. The time per input is the median of every
 * window's mean, ORT's the median of every run; the last line is {@code ratio: X}, the first over
 * the second.
 *
 * <p>Usage: {@code AnalyzeBench MODEL --input DIR [--quantized QDQ] [--warmup-passes N]
 * [--timed-passes N] [--warmup-inputs N] [--ort-runs N] [other analyze options]}. Exits 0 when the benchmark ran, 2 on a usage error, 1
 * when the analysis or ONNX Runtime failed.
 */
public final class AnalyzeBench {
    /** Consecutive steady inputs per timed window. */
    static final int WINDOW = 4;

    private static final int ORT_WARMUP = 10;
    private static final String USAGE = "usage: AnalyzeBench MODEL --input DIR [--quantized QDQ]"
            + " [--warmup-passes N] [--timed-passes N] [--warmup-inputs N] [--ort-runs N] [analyze options]";

    private AnalyzeBench() {}

    public static void main(String[] args) {
        int warmupPasses = 2;
        int timedPasses = 3;
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
                    case "--timed-passes" -> timedPasses = Integer.parseInt(value(args, ++i, "--timed-passes"));
                    default -> {
                        report |= args[i].equals("--report") || args[i].startsWith("--report=");
                        analyzeArgs.add(args[i]);
                    }
                }
            }
            if (warmupInputs < 1 || ortRuns < 1 || timedPasses < 1 || warmupPasses < 0) {
                throw new IllegalArgumentException(
                        "--warmup-inputs, --timed-passes and --ort-runs must be >= 1, --warmup-passes >= 0");
            }
        } catch (RuntimeException e) {
            System.err.println("error: " + e.getMessage() + " (" + USAGE + ")");
            System.exit(2);
        }
        // As layerprobe's main does: the embedded device and the client use Netty as the CLI runs them.
        NettyDefaults.apply();
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
            lines.addAll(run(o, tmp, timedPasses, warmupInputs, ortRuns));
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

    /**
     * The timed passes, each followed by a block of ONNX Runtime runs, so that both sides are
     * measured in the same minutes; the lines to print. Each pass reports into a folder of its own
     * under {@code tmp} (an analysis resumes a report folder it finds), the last into {@code o}'s.
     */
    static List<String> run(AnalysisOptions o, Path tmp, int timedPasses, int warmupInputs, int ortRuns)
            throws Exception {
        int n = o.inputs().size();
        int windows = (n - warmupInputs) / WINDOW;
        int timed = windows * WINDOW;
        double[] allWindows = new double[timedPasses * windows];
        double[] allOrt = new double[timedPasses * ortRuns];
        List<String> lines = new ArrayList<>();
        lines.add(String.format(
                Locale.ROOT,
                "%s: %d inputs; per timed pass %d warm-up inputs, %d timed in %d windows of %d, then %d ONNX Runtime"
                        + " runs",
                o.model().getFileName(),
                n,
                warmupInputs,
                timed,
                windows,
                WINDOW,
                ortRuns));
        double cpuSum = 0;
        try (OrtRunner ort = new OrtRunner(o)) {
            for (int p = 0; p < timedPasses; p++) {
                AnalysisOptions po = p == timedPasses - 1 ? o : o.withReportDir(tmp.resolve("timed-" + (p + 1)));
                TimedPass pass = timedPass(po, warmupInputs, windows);
                System.arraycopy(pass.perInput(), 0, allWindows, p * windows, windows);
                double[] ms = ort.millis(ortRuns);
                System.arraycopy(ms, 0, allOrt, p * ortRuns, ortRuns);
                cpuSum += pass.cpuMs();
                StringBuilder each = new StringBuilder();
                for (double w : pass.perInput()) {
                    each.append(String.format(Locale.ROOT, " %.0f", w));
                }
                StringBuilder warm = new StringBuilder();
                for (double w : pass.warmup()) {
                    warm.append(String.format(Locale.ROOT, " %.0f", w));
                }
                lines.add(String.format(
                        Locale.ROOT,
                        "timed pass %d: %.1f s (setup, calibration and report included); warm-up inputs 2 to %d, ms"
                                + " each:%s",
                        p + 1,
                        pass.seconds(),
                        warmupInputs,
                        warm));
                lines.add(String.format(
                        Locale.ROOT,
                        "  windows in order, ms per input:%s; process CPU %.1f ms per input; onnxruntime median"
                                + " %.2f ms",
                        each,
                        pass.cpuMs(),
                        median(sorted(ms))));
            }
        }
        double[] sorted = sorted(allWindows);
        double analyzeMs = median(sorted);
        double[] ort = sorted(allOrt);
        double ortMs = median(ort);
        lines.add(String.format(
                Locale.ROOT,
                "analyze: %.1f ms per input (median of %d windows), windows %.1f to %.1f ms; process CPU %.1f ms per"
                        + " input",
                analyzeMs,
                sorted.length,
                sorted[0],
                sorted[sorted.length - 1],
                cpuSum / timedPasses));
        lines.add(String.format(
                Locale.ROOT,
                "onnxruntime (float): %.2f ms (median of %d), p90 %.2f ms",
                ortMs,
                ort.length,
                FloatSimulatorBench.percentile(ort, 90)));
        lines.add(String.format(Locale.ROOT, "ratio: %.2f", analyzeMs / ortMs));
        return lines;
    }

    /** One timed analysis: its windows' ms per input, the warm-up inputs' intervals, CPU per timed input. */
    record TimedPass(double[] perInput, double[] warmup, double cpuMs, double seconds) {}

    static TimedPass timedPass(AnalysisOptions o, int warmupInputs, int windows) throws Exception {
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
        double seconds = (System.nanoTime() - start) / 1e9;
        double[] perInput = new double[windows];
        for (int w = 0; w < windows; w++) {
            int last = warmupInputs - 1 + (w + 1) * WINDOW;
            perInput[w] = (done[last] - done[last - WINDOW]) / 1e6 / WINDOW;
        }
        double[] warm = new double[warmupInputs - 1];
        for (int i = 1; i < warmupInputs; i++) {
            warm[i - 1] = (done[i] - done[i - 1]) / 1e6;
        }
        int timed = windows * WINDOW;
        // CPU time of the whole process (every thread, JIT and GC included) per steady input: on a
        // loaded machine the wall time also counts waiting for a core.
        double cpuMs = (cpu[warmupInputs - 1 + timed] - cpu[warmupInputs - 1]) / 1e6 / timed;
        return new TimedPass(perInput, warm, cpuMs, seconds);
    }

    /**
     * ONNX Runtime running the float model on the first input: every optimisation, as many intra-op
     * threads as the simulator's parallel streams use, no spinning; warmed up when opened.
     */
    private static final class OrtRunner implements AutoCloseable {
        private final OrtSession.SessionOptions options;
        private final OrtSession session;
        private final OnnxTensor input;
        private final Map<String, OnnxTensor> feeds;

        OrtRunner(AnalysisOptions o) throws Exception {
            ValueInfo in = Simulator.compile(o.model(), CompileOptions.DEFAULT)
                    .inputs()
                    .get(0);
            int[] shape = InputShapes.resolve(in, o.inputShapes().get(in.name()), o.size());
            Tensor t = InputLoader.load(o.inputs().get(0), shape, o.spec());
            int threads = ForkJoinPool.commonPool().getParallelism() + 1;
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            options = FloatSimulatorBench.sessionOptions(threads);
            try {
                session = env.createSession(o.model().toString(), options);
            } catch (OrtException e) {
                options.close();
                throw e;
            }
            try {
                input = FloatSimulatorBench.toOrt(env, in.name(), t);
            } catch (OrtException e) {
                session.close();
                options.close();
                throw e;
            }
            feeds = Map.of(in.name(), input);
            for (int i = 0; i < ORT_WARMUP; i++) {
                runOrt(session, feeds);
            }
        }

        /** Wall times of {@code runs} inferences, in the order they ran. */
        double[] millis(int runs) throws OrtException {
            double[] ms = new double[runs];
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                runOrt(session, feeds);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            return ms;
        }

        @Override
        public void close() throws OrtException {
            input.close();
            session.close();
            options.close();
        }
    }

    private static double[] sorted(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s;
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
