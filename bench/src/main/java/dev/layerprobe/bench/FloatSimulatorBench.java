package dev.layerprobe.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.LayerValue;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.tensor.Tensor;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

/**
 * Time per inference of the float simulator against ONNX Runtime (Java API) on one model, with
 * both given the same number of intra-op threads.
 *
 * <p>Both engines are warmed up, then measured interleaved (ORT, simulator, ORT, simulator, ...)
 * so that noise from other work on a shared machine hits both alike; the ratio of the two medians
 * is the figure of merit (the target is a ratio of at most 5). Times are wall-clock
 * milliseconds per {@code run} call on one seeded 1x3x224x224 input.
 *
 * <p>Usage: {@code FloatSimulatorBench [model.onnx] [--iterations N] [--warmup N]}; the model
 * defaults to {@code ../shared/models/mobilenet_v2.onnx} beside the repository root. Exits 0 when
 * the benchmark ran, 2 on a usage error or a missing model, 1 when an engine failed.
 */
public final class FloatSimulatorBench {
    private static final int[] INPUT_SHAPE = {1, 3, 224, 224};
    private static final long SEED = 42;

    private FloatSimulatorBench() {
    }

    public static void main(String[] args) {
        Path model = null;
        int iterations = 30;
        int warmup = 10;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--iterations" -> iterations = Integer.parseInt(args[++i]);
                    case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                    default -> {
                        if (args[i].startsWith("-") || model != null) {
                            throw new IllegalArgumentException("unexpected argument '" + args[i] + "'");
                        }
                        model = Paths.get(args[i]);
                    }
                }
            }
            if (iterations < 1 || warmup < 0) {
                throw new IllegalArgumentException("--iterations must be >= 1 and --warmup >= 0");
            }
        } catch (RuntimeException e) {
            System.err.println("error: " + e.getMessage()
                    + " (usage: FloatSimulatorBench [model.onnx] [--iterations N] [--warmup N])");
            System.exit(2);
        }
        if (model == null) {
            model = repoRoot().resolve("..").resolve("shared").resolve("models").resolve("mobilenet_v2.onnx")
                    .normalize();
        }
        if (!Files.isRegularFile(model)) {
            System.err.println("error: model " + model + " not found (pass its path as the first argument)");
            System.exit(2);
        }
        try {
            System.out.println(run(model, iterations, warmup));
        } catch (OrtException | SimulatorException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }

    /** Runs the benchmark and returns its one-line summary. */
    static String run(Path model, int iterations, int warmup) throws OrtException, SimulatorException {
        // A parallel stream runs on the common pool's workers and on the calling thread.
        int threads = ForkJoinPool.commonPool().getParallelism() + 1;
        float[] data = new float[Arrays.stream(INPUT_SHAPE).reduce(1, (a, b) -> a * b)];
        Random random = new Random(SEED);
        for (int i = 0; i < data.length; i++) {
            data[i] = random.nextFloat() * 2f - 1f;
        }

        NpuProgram program = Simulator.compile(model, CompileOptions.DEFAULT);
        String simInput = program.inputs().get(0).name();
        Map<String, Tensor> feeds = Map.of(simInput, Tensor.ofFloats(INPUT_SHAPE, data));

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            // ORT's pool otherwise busy-waits after each run, taking the cores from the simulator
            // run that follows it in the interleaved loop.
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            try (OrtSession session = env.createSession(model.toString(), options);
                 OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(data),
                         Arrays.stream(INPUT_SHAPE).asLongStream().toArray())) {
                String ortInput = session.getInputNames().iterator().next();
                Map<String, OnnxTensor> ortFeeds = Map.of(ortInput, input);

                float maxDiff = maxAbsDiff(program.run(feeds, LayerObserver.NONE), session.run(ortFeeds));
                for (int i = 0; i < warmup; i++) {
                    runOrt(session, ortFeeds);
                    program.run(feeds, LayerObserver.NONE);
                }
                double[] ortMs = new double[iterations];
                double[] simMs = new double[iterations];
                for (int i = 0; i < iterations; i++) {
                    long t0 = System.nanoTime();
                    runOrt(session, ortFeeds);
                    long t1 = System.nanoTime();
                    program.run(feeds, LayerObserver.NONE);
                    long t2 = System.nanoTime();
                    ortMs[i] = (t1 - t0) / 1e6;
                    simMs[i] = (t2 - t1) / 1e6;
                }
                Arrays.sort(ortMs);
                Arrays.sort(simMs);
                double simMedian = percentile(simMs, 50);
                double ortMedian = percentile(ortMs, 50);
                String name = model.getFileName().toString().replaceFirst("\\.onnx$", "");
                return String.format("%s %s, %d threads: simulator %.1f ms (p90 %.1f), onnxruntime %.1f ms (p90 %.1f),"
                                + " ratio %.2f (target <= 5); %d iterations, outputs max |diff| %.2g",
                        name, String.join("x", Arrays.stream(INPUT_SHAPE).mapToObj(Integer::toString).toList()),
                        threads, simMedian, percentile(simMs, 90), ortMedian, percentile(ortMs, 90),
                        simMedian / ortMedian, iterations, maxDiff);
            }
        }
    }

    private static void runOrt(OrtSession session, Map<String, OnnxTensor> feeds) throws OrtException {
        try (OrtSession.Result r = session.run(feeds)) {
            // Closing the result frees its native output buffers.
        }
    }

    /** Max |simulator - ORT| over the first output, a check that both computed the same network. */
    private static float maxAbsDiff(Map<String, LayerValue> sim, OrtSession.Result ort) throws OrtException {
        try (ort) {
            float[] a = sim.values().iterator().next().real().floats();
            FloatBuffer b = ((OnnxTensor) ort.get(0)).getFloatBuffer();
            if (b.remaining() != a.length) {
                throw new IllegalStateException("simulator output has " + a.length + " values, onnxruntime "
                        + b.remaining());
            }
            float max = 0f;
            for (int i = 0; i < a.length; i++) {
                max = Math.max(max, Math.abs(a[i] - b.get(i)));
            }
            return max;
        }
    }

    /** Nearest-rank percentile of sorted values. */
    private static double percentile(double[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** The repository root: the layerprobe.root property, else the nearest ancestor holding simulator/. */
    private static Path repoRoot() {
        String prop = System.getProperty("layerprobe.root");
        if (prop != null) {
            return Paths.get(prop).toAbsolutePath();
        }
        Path p = Paths.get("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("simulator"))) {
            p = p.getParent();
        }
        return p == null ? Paths.get("").toAbsolutePath() : p;
    }
}
