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
import dev.layerprobe.host.quantize.QuantizationOptions;
import dev.layerprobe.host.quantize.Quantizer;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.quant.Calibration;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

/**
 * Time per inference of the int8 simulator (the default profile: fixed-point requantization, no
 * faults) against ONNX Runtime running the same QDQ file, the {@code --int8} mode of
 * {@link FloatSimulatorBench}, with the same inputs, thread counts, warm-up and interleaving.
 *
 * <p>The QDQ file is the model quantized as {@code layerprobe quantize} writes it by default (int8,
 * weights per channel, minmax) through {@link Quantizer}, calibrated on {@value #CALIBRATION_INPUTS}
 * seeded inputs (the measured one and the next seeds): the calibration data changes the scales, not
 * the work. The simulator compiles that file as {@code analyze} does; ONNX Runtime loads it with
 * every optimisation, so it fuses the QDQ pairs into its integer kernels. As a check that both ran
 * the same network it reports how far apart their floating outputs are, in output scale steps (the
 * simulator's fixed-point requantization and ORT's float one may differ by a step per layer).
 */
final class Int8SimulatorBench {
    static final int CALIBRATION_INPUTS = 4;

    private Int8SimulatorBench() {}

    /** Runs the benchmark and returns its report lines, the last one {@code ratio: X}. */
    static List<String> run(
            Path model, Map<String, int[]> inputShapes, int iterations, int warmup, double warmupSeconds, long seed)
            throws OrtException, SimulatorException, InputException {
        int threads = ForkJoinPool.commonPool().getParallelism() + 1;
        List<ValueInfo> declared =
                Simulator.compile(model, CompileOptions.DEFAULT).inputs();
        Map<String, int[]> shapes = SeededInputs.shapes(declared, inputShapes);
        NpuProgram floatProgram = Simulator.compile(model, CompileOptions.DEFAULT.withInputShapes(shapes));
        Map<String, Tensor> feeds = SeededInputs.of(declared, shapes, seed);
        List<Map<String, Tensor>> calibration = new ArrayList<>();
        for (int i = 0; i < CALIBRATION_INPUTS; i++) {
            calibration.add(SeededInputs.of(declared, shapes, seed + i));
        }
        QuantizationOptions q = QuantizationOptions.DEFAULT;
        Quantizer quantizer = new Quantizer(new PrintWriter(new StringWriter()));
        Calibration c = Calibration.collect(floatProgram, calibration, Quantizer.calibrationOptions(q), n -> {});
        ModelProto qdq;
        try {
            qdq = quantizer.quantize(floatProgram, c, q);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("quantizing in memory cannot fail on I/O", e);
        }
        String name = model.getFileName().toString().replaceFirst("\\.onnx$", "") + ".qdq";
        NpuProgram program = Simulator.compile(
                qdq, name, CompileOptions.of(DeviceProfile.DEFAULT).withInputShapes(shapes));

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = FloatSimulatorBench.sessionOptions(threads)) {
            Map<String, OnnxTensor> ortFeeds = new LinkedHashMap<>();
            try (OrtSession session = env.createSession(qdq.toByteArray(), options)) {
                for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
                    ortFeeds.put(e.getKey(), FloatSimulatorBench.toOrt(env, e.getKey(), e.getValue()));
                }
                String agreement = agreement(program, program.run(feeds, LayerObserver.NONE), session.run(ortFeeds));
                // As the float benchmark: at least --warmup runs and --warmup-seconds, so the JIT has
                // compiled the integer kernels before anything is timed.
                long warmupStart = System.nanoTime();
                long warmupEnd = warmupStart + (long) (warmupSeconds * 1e9);
                int warmups = 0;
                while (warmups < warmup || System.nanoTime() < warmupEnd) {
                    session.run(ortFeeds).close();
                    program.run(feeds, LayerObserver.NONE);
                    warmups++;
                }
                double warmedSeconds = (System.nanoTime() - warmupStart) / 1e9;
                double[] ortMs = new double[iterations];
                double[] simMs = new double[iterations];
                for (int i = 0; i < iterations; i++) {
                    long t0 = System.nanoTime();
                    session.run(ortFeeds).close();
                    long t1 = System.nanoTime();
                    program.run(feeds, LayerObserver.NONE);
                    long t2 = System.nanoTime();
                    ortMs[i] = (t1 - t0) / 1e6;
                    simMs[i] = (t2 - t1) / 1e6;
                }
                Arrays.sort(ortMs);
                Arrays.sort(simMs);
                double simMedian = FloatSimulatorBench.percentile(simMs, 50);
                double ortMedian = FloatSimulatorBench.percentile(ortMs, 50);
                String inputs = String.join(
                        ", ",
                        shapes.entrySet().stream()
                                .map(e -> e.getKey() + " " + InputShapes.describe(e.getValue()))
                                .toList());
                return List.of(
                        String.format(
                                Locale.ROOT,
                                "%s quantized int8 (QDQ, calibrated on %d seeded inputs), inputs %s, %d threads,"
                                        + " %d iterations after %d warm-ups (%.1f s); outputs %s",
                                model.getFileName(),
                                CALIBRATION_INPUTS,
                                inputs,
                                threads,
                                iterations,
                                warmups,
                                warmedSeconds,
                                agreement),
                        String.format(
                                Locale.ROOT,
                                "int8 simulator: %.2f ms (median), p90 %.2f ms",
                                simMedian,
                                FloatSimulatorBench.percentile(simMs, 90)),
                        String.format(
                                Locale.ROOT,
                                "onnxruntime (QDQ): %.2f ms (median), p90 %.2f ms",
                                ortMedian,
                                FloatSimulatorBench.percentile(ortMs, 90)),
                        String.format(Locale.ROOT, "ratio: %.2f", simMedian / ortMedian));
            } finally {
                ortFeeds.values().forEach(OnnxTensor::close);
            }
        }
    }

    /**
     * How far the simulator's floating outputs are from ORT's, matched by name: the largest
     * difference in steps of the output's quantization scale (the real values of the codes).
     */
    private static String agreement(NpuProgram program, Map<String, LayerValue> sim, OrtSession.Result ort)
            throws OrtException {
        try (ort) {
            double maxSteps = 0;
            int compared = 0;
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
                double step = v.isQuantized() ? v.codes().params().scale(0) : 1.0;
                for (int i = 0; i < a.length; i++) {
                    maxSteps = Math.max(maxSteps, Math.abs(a[i] - b.get(i)) / step);
                }
                compared++;
            }
            return compared == 0
                    ? "not compared (no floating output)"
                    : String.format(Locale.ROOT, "max |diff| %.3g output steps", maxSteps);
        }
    }
}
