package dev.layerprobe.bench;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputShapes;
import dev.layerprobe.host.input.SeededInputs;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.ValueInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

/**
 * Time per inference of the float simulator against ONNX Runtime (Java API) on one model, with
 * both given the same number of intra-op threads.
 *
 * <p>Both engines are warmed up, interleaved, for at least {@code --warmup} runs and
 * {@code --warmup-seconds} (the simulator's kernels are compiled by the JIT in the first seconds,
 * longer on a loaded machine: runs before that time the compiler, not inference), then measured
 * interleaved (ORT, simulator, ORT, simulator, ...)
 * so that noise from other work on a shared machine hits both alike; the ratio of the two medians
 * is the figure of merit (the target is a ratio of at most 5). Times are wall-clock milliseconds
 * per {@code run} call. Every input of the model gets seeded random data of its shape
 * ({@link SeededInputs}, seed 42 + input index); dynamic dimensions come from
 * {@code --input-shape NAME=DIMS} (a dynamic batch is 1), and the simulator is compiled at those
 * shapes.
 *
 * <p>Usage: {@code FloatSimulatorBench [model.onnx] [--input-shape NAME=DIMS]... [--iterations N]
 * [--warmup N] [--warmup-seconds S] [--int8]}; {@code --int8} times the int8 simulator against ONNX Runtime on the
 * model's QDQ file instead ({@link Int8SimulatorBench}); the model defaults to {@code ../shared/models/mobilenet_v2.onnx} beside the
 * repository root. Prints the model and inputs, one line per engine, and last {@code ratio: X}
 * (simulator / ONNX Runtime). Exits 0 when the benchmark ran, 2 on a usage error, a missing model
 * or an input shape it cannot resolve, 1 when an engine failed.
 */
public final class FloatSimulatorBench {
    private static final long SEED = 42;
    private static final String USAGE = "usage: FloatSimulatorBench [model.onnx] [--input-shape NAME=DIMS]..."
            + " [--iterations N] [--warmup N] [--warmup-seconds S] [--int8]";

    private FloatSimulatorBench() {}

    public static void main(String[] args) {
        Path model = null;
        int iterations = 30;
        int warmup = 10;
        double warmupSeconds = 10;
        List<String> inputShapes = new ArrayList<>();
        boolean int8 = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--iterations" -> iterations = Integer.parseInt(value(args, ++i, "--iterations"));
                    case "--warmup" -> warmup = Integer.parseInt(value(args, ++i, "--warmup"));
                    case "--warmup-seconds" -> warmupSeconds = Double.parseDouble(value(args, ++i, "--warmup-seconds"));
                    case "--input-shape" -> inputShapes.add(value(args, ++i, "--input-shape"));
                    case "--int8" -> int8 = true;
                    default -> {
                        if (args[i].startsWith("-") || model != null) {
                            throw new IllegalArgumentException("unexpected argument '" + args[i] + "'");
                        }
                        model = Paths.get(args[i]);
                    }
                }
            }
            if (iterations < 1 || warmup < 0 || !(warmupSeconds >= 0)) {
                throw new IllegalArgumentException(
                        "--iterations must be >= 1, --warmup >= 0 and --warmup-seconds >= 0");
            }
        } catch (RuntimeException e) {
            System.err.println("error: " + e.getMessage() + " (" + USAGE + ")");
            System.exit(2);
        }
        if (model == null) {
            model = repoRoot()
                    .resolve("..")
                    .resolve("shared")
                    .resolve("models")
                    .resolve("mobilenet_v2.onnx")
                    .normalize();
        }
        if (!Files.isRegularFile(model)) {
            System.err.println("error: model " + model + " not found (pass its path as the first argument)");
            System.exit(2);
        }
        try {
            Map<String, int[]> shapes = InputShapes.parse(inputShapes);
            (int8
                            ? Int8SimulatorBench.run(model, shapes, iterations, warmup, warmupSeconds, SEED)
                            : run(model, shapes, iterations, warmup, warmupSeconds))
                    .forEach(System.out::println);
        } catch (InputException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
        } catch (OrtException | SimulatorException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    /** Runs the benchmark and returns its report lines, the last one {@code ratio: X}. */
    static List<String> run(
            Path model, Map<String, int[]> inputShapes, int iterations, int warmup, double warmupSeconds)
            throws OrtException, SimulatorException, InputException {
        // A parallel stream runs on the common pool's workers and on the calling thread.
        int threads = ForkJoinPool.commonPool().getParallelism() + 1;
        List<ValueInfo> declared =
                Simulator.compile(model, CompileOptions.DEFAULT).inputs();
        Map<String, int[]> shapes = SeededInputs.shapes(declared, inputShapes);
        NpuProgram program = Simulator.compile(model, CompileOptions.DEFAULT.withInputShapes(shapes));
        Map<String, Tensor> feeds = SeededInputs.of(declared, shapes, SEED);

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = sessionOptions(threads)) {
            Map<String, OnnxTensor> ortFeeds = new LinkedHashMap<>();
            try (OrtSession session = env.createSession(model.toString(), options)) {
                for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
                    ortFeeds.put(e.getKey(), toOrt(env, e.getKey(), e.getValue()));
                }
                float maxDiff = maxAbsDiff(program, program.run(feeds, LayerObserver.NONE), session.run(ortFeeds));
                long warmupStart = System.nanoTime();
                long warmupEnd = warmupStart + (long) (warmupSeconds * 1e9);
                int warmups = 0;
                while (warmups < warmup || System.nanoTime() < warmupEnd) {
                    runOrt(session, ortFeeds);
                    program.run(feeds, LayerObserver.NONE);
                    warmups++;
                }
                double warmedSeconds = (System.nanoTime() - warmupStart) / 1e9;
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
                String inputs = String.join(
                        ", ",
                        shapes.entrySet().stream()
                                .map(e -> e.getKey() + " " + InputShapes.describe(e.getValue()))
                                .toList());
                return List.of(
                        String.format(
                                Locale.ROOT,
                                "%s, inputs %s, %d threads, %d iterations after %d warm-ups (%.1f s);"
                                        + " outputs max |diff| %.2g",
                                model.getFileName(),
                                inputs,
                                threads,
                                iterations,
                                warmups,
                                warmedSeconds,
                                maxDiff),
                        String.format(
                                Locale.ROOT,
                                "simulator: %.2f ms (median), p90 %.2f ms",
                                simMedian,
                                percentile(simMs, 90)),
                        String.format(
                                Locale.ROOT,
                                "onnxruntime: %.2f ms (median), p90 %.2f ms",
                                ortMedian,
                                percentile(ortMs, 90)),
                        String.format(Locale.ROOT, "ratio: %.2f", simMedian / ortMedian));
            } finally {
                ortFeeds.values().forEach(OnnxTensor::close);
            }
        }
    }

    /** ONNX Runtime's options: {@code threads} intra-op threads, one inter-op thread, every optimisation. */
    static OrtSession.SessionOptions sessionOptions(int threads) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        // ORT's pool otherwise busy-waits after each run, taking the cores from the simulator
        // run that follows it in the interleaved loop.
        options.addConfigEntry("session.intra_op.allow_spinning", "0");
        return options;
    }

    /** The same values as an ONNX Runtime tensor, for the element types models take as inputs. */
    static OnnxTensor toOrt(OrtEnvironment env, String name, Tensor t) throws OrtException {
        long[] shape = Arrays.stream(t.shape()).asLongStream().toArray();
        int n = t.size();
        switch (t.dtype()) {
            case FLOAT32:
                return OnnxTensor.createTensor(env, FloatBuffer.wrap(t.floats()), shape);
            case INT64: {
                LongBuffer b = LongBuffer.allocate(n);
                for (int i = 0; i < n; i++) {
                    b.put(t.getLong(i));
                }
                return OnnxTensor.createTensor(env, b.flip(), shape);
            }
            case INT32: {
                IntBuffer b = IntBuffer.allocate(n);
                for (int i = 0; i < n; i++) {
                    b.put((int) t.getLong(i));
                }
                return OnnxTensor.createTensor(env, b.flip(), shape);
            }
            case INT8, UINT8, BOOL: {
                ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.nativeOrder());
                for (int i = 0; i < n; i++) {
                    b.put((byte) t.getLong(i));
                }
                OnnxJavaType type = switch (t.dtype()) {
                    case INT8 -> OnnxJavaType.INT8;
                    case UINT8 -> OnnxJavaType.UINT8;
                    default -> OnnxJavaType.BOOL;
                };
                return OnnxTensor.createTensor(env, b.flip(), shape, type);
            }
            default:
                throw new IllegalArgumentException("input '" + name + "' has element type " + t.dtype()
                        + ", the benchmark feeds [FLOAT32, INT64, INT32, INT8, UINT8, BOOL]");
        }
    }

    private static void runOrt(OrtSession session, Map<String, OnnxTensor> feeds) throws OrtException {
        // Closing the result frees its native output buffers.
        session.run(feeds).close();
    }

    /**
     * Max |simulator - ORT| over the model's floating outputs, matched by name: a check that both
     * computed the same network.
     */
    private static float maxAbsDiff(NpuProgram program, Map<String, LayerValue> sim, OrtSession.Result ort)
            throws OrtException {
        try (ort) {
            float max = 0f;
            for (String name : program.outputs()) {
                LayerValue v = sim.get(name);
                var o = ort.get(name);
                if (v == null
                        || o.isEmpty()
                        || !(o.get() instanceof OnnxTensor t)
                        || t.getInfo().type != OnnxJavaType.FLOAT
                        || !v.real().isFloating()) {
                    continue;
                }
                float[] a = v.real().floats();
                FloatBuffer b = t.getFloatBuffer();
                if (b.remaining() != a.length) {
                    throw new IllegalStateException("output '" + name + "': simulator has " + a.length
                            + " values, onnxruntime " + b.remaining());
                }
                for (int i = 0; i < a.length; i++) {
                    max = Math.max(max, Math.abs(a[i] - b.get(i)));
                }
            }
            return max;
        }
    }

    /** Nearest-rank percentile of sorted values. */
    static double percentile(double[] sorted, int p) {
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
