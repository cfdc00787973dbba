package dev.layerprobe.host.analyze;

import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.tensor.Channels;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentEndpoint;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.client.EmbeddedDevice;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.host.input.ImageLoader;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputShapes;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.host.quantize.QuantizationOptions;
import dev.layerprobe.host.quantize.Quantizer;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.quant.Calibration;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code layerprobe check-input} (docs/architecture.md#localization): which preprocessing of the input does
 * the device's first layer agree with?
 *
 * <p>The device runs the model once on the input preprocessed as the user said (or on a tensor the
 * user captured from the device's own pipeline). Only its first layer is kept. The host float
 * simulator then computes that layer on every candidate preprocessing of the same pixels: channel
 * order as given or swapped, the NCHW tensor or its NHWC data read as NCHW, 0..1 or 0..255 pixels,
 * with or without mean/std. The candidate whose output is closest (cosine) is the preprocessing
 * the device effectively saw.
 *
 * <p>By default the model uploaded is the int8 QDQ model calibrated on the input itself, since NPUs
 * (and the emulated device's faults) run quantized layers; {@code floatUpload} sends the compiled
 * float model instead. Either way the host side is the float model, so the right candidate scores
 * about 0.99 on a quantized device and 1.0 on a float one. On a quantized device the host's output is
 * put on the device layer's output codes before comparing, so clipping does not count against it.
 */
public final class PreprocessingCheck {
    /** Below this the best candidate is reported as "closest", not as a match. */
    public static final double MATCH_COS = 0.99;

    /** What to check: the model, the image (or tensor) and how the user preprocesses it. */
    public record Options(
            Path model,
            Path input,
            Path deviceInput,
            AgentEndpoint device,
            Path profile,
            InputSpec spec,
            Map<String, int[]> inputShapes,
            int[] size,
            boolean floatUpload) {}

    /** One candidate preprocessing and how well the host's first layer on it matches the device's. */
    public record Candidate(
            String label, boolean swapChannels, boolean nhwc, boolean pixels255, boolean noMeanStd, double cos) {
        public boolean asGiven() {
            return !swapChannels && !nhwc && !pixels255 && !noMeanStd;
        }
    }

    /** The device's first layer and the candidates, best first. */
    public record Result(String layer, String op, List<Candidate> candidates) {
        public Candidate best() {
            return candidates.get(0);
        }

        public Candidate asGiven() {
            return candidates.stream().filter(Candidate::asGiven).findFirst().orElseThrow();
        }
    }

    private final Options o;
    private final PrintWriter out;

    public PreprocessingCheck(Options options, PrintWriter out) {
        this.o = options;
        this.out = out;
    }

    /**
     * Runs the device once and the candidates on the host.
     *
     * @throws InputException for an input that cannot be loaded or is no [1, 3, H, W] image
     * @throws LayerProbeException when the simulator cannot compile or run the model, or a profile is bad
     * @throws AgentException when the device cannot be reached or fails
     * @throws AgentSetupException when the embedded device refuses its configuration
     * @throws IOException when calibration or the model cannot be read
     */
    public Result run() throws InputException, LayerProbeException, AgentException, AgentSetupException, IOException {
        Path model = o.model();
        ModelProto floatModel = OnnxGraphs.readModel(model);
        String modelName = model.getFileName().toString();
        DeviceProfile localProfile = o.profile() == null ? DeviceProfile.DEFAULT : DeviceProfile.load(o.profile());
        NpuProgram floatProgram = Simulator.compile(model, CompileOptions.DEFAULT);
        if (floatProgram.inputs().size() != 1) {
            throw new SimulatorException(
                    SimulatorException.Code.BAD_INPUT,
                    "the model has " + floatProgram.inputs().size()
                            + " inputs; check-input supports single-input models");
        }
        ValueInfo in = floatProgram.inputs().get(0);
        int[] wanted = InputShapes.resolve(in, o.inputShapes().get(in.name()), o.size());
        InputSpec spec = o.spec();

        Tensor givenTensor = InputLoader.load(o.input(), wanted, spec);
        int[] shape = givenTensor.shape();
        if (shape.length != 4 || shape[0] != 1 || shape[1] != 3) {
            throw new InputException("check-input needs a [1, 3, H, W] image input, " + o.input() + " gives "
                    + InputShapes.describe(shape));
        }
        if (!InputShapes.isStatic(in.shape())) {
            floatProgram = Simulator.compile(model, CompileOptions.DEFAULT.withInputShapes(Map.of(in.name(), shape)));
        }
        // Raw RGB pixels 0..255, NCHW: from the image, or recovered from a tensor by undoing the spec.
        Tensor raw = isTensorFile(o.input())
                ? unapply(givenTensor, spec)
                : ImageLoader.load(o.input(), shape[2], shape[3], InputSpec.DEFAULT.withScale(1f));
        Tensor deviceFeed = o.deviceInput() == null ? givenTensor : InputLoader.load(o.deviceInput(), shape, spec);

        // The device is asked first, so an unreachable one fails in seconds, before any calibration.
        try (EmbeddedDevice device = EmbeddedDevice.connect(o.device(), localProfile)) {
            AgentClient client = device.client();
            client.info();
            return check(client, floatModel, floatProgram, modelName, in, spec, raw, deviceFeed, localProfile);
        }
    }

    private Result check(
            AgentClient client,
            ModelProto floatModel,
            NpuProgram floatProgram,
            String modelName,
            ValueInfo in,
            InputSpec spec,
            Tensor raw,
            Tensor deviceFeed,
            DeviceProfile localProfile)
            throws InputException, SimulatorException, AgentException, IOException {
        ModelProto deviceModel;
        String deviceModelName;
        if (o.floatUpload()) {
            deviceModel = OnnxGraphs.toModel(floatProgram.graph(), "layerprobe", Map.of());
            deviceModelName = DeviceModel.stripOnnx(modelName) + ".float.onnx";
        } else {
            Quantizer quantizer = new Quantizer(out);
            QuantizationOptions q = QuantizationOptions.DEFAULT;
            Calibration calibration =
                    quantizer.calibrate(floatProgram, floatModel.toByteArray(), List.of(o.input()), spec, q);
            deviceModel = quantizer.quantize(floatProgram, calibration, q);
            deviceModelName = DeviceModel.stripOnnx(modelName) + ".qdq.onnx";
        }
        byte[] deviceBytes = deviceModel.toByteArray();
        if (!localProfile.faults().isEmpty()) {
            // Misspelt fault layers are the user's input error, not a device failure.
            Simulator.compile(deviceModel, deviceModelName, CompileOptions.of(localProfile));
        }

        String firstName;
        LayerValue[] first = new LayerValue[1];
        String[] firstLayer = new String[2];
        String modelId = client.upload(deviceBytes, deviceModelName);
        client.run(modelId, Map.of(in.name(), deviceFeed), DumpFormat.NATIVE, (header, value) -> {
            if (first[0] == null) {
                first[0] = value;
                firstLayer[0] = header.getName();
                firstLayer[1] = header.getOp();
            }
        });
        if (first[0] == null) {
            throw new SimulatorException(SimulatorException.Code.INVALID_MODEL, "the device reported no layers");
        }
        firstName = firstLayer[0];
        Layer hostLayer = floatProgram.layer(firstName).orElse(null);
        if (hostLayer == null) {
            throw new SimulatorException(
                    SimulatorException.Code.INVALID_MODEL,
                    "the device's first layer '" + firstName
                            + "' is not a layer of the float model; cannot compare preprocessing");
        }
        Tensor onDevice = first[0].real();
        QuantParams grid = first[0].isQuantized() ? first[0].codes().params() : null;

        List<Candidate> candidates = new ArrayList<>();
        boolean hasMeanStd = !isIdentity(spec);
        boolean hasScale = spec.scale() != 1f;
        for (boolean nhwc : new boolean[] {false, true}) {
            for (boolean swap : new boolean[] {false, true}) {
                for (boolean p255 : hasScale ? new boolean[] {false, true} : new boolean[] {false}) {
                    for (boolean noNorm : hasMeanStd ? new boolean[] {false, true} : new boolean[] {false}) {
                        InputSpec s = spec;
                        if (p255) {
                            s = s.withScale(1f);
                        }
                        if (noNorm) {
                            s = s.withMeanStd(new float[] {0f}, new float[] {1f});
                        }
                        Tensor t = apply(raw, s);
                        if (swap) {
                            // The tensor's channels read in the other order, each with its mean/std:
                            // what a device (or a buffer) with the wrong channel order feeds the layer.
                            t = Channels.reverse(t);
                        }
                        if (nhwc) {
                            t = nhwcAsNchw(t);
                        }
                        Tensor onHost = hostFirstLayer(floatProgram, hostLayer, in.name(), t);
                        if (grid != null) {
                            // On the device's output codes: a candidate is not penalised for the
                            // clipping of a range calibrated on the input as given.
                            onHost = QTensor.quantize(onHost, grid).dequantize();
                        }
                        double cos = Metrics.compare(onHost, onDevice).cos();
                        candidates.add(new Candidate(
                                label(spec, swap, nhwc, p255, noNorm),
                                swap,
                                nhwc,
                                p255,
                                noNorm,
                                Double.isNaN(cos) ? -1 : cos));
                    }
                }
            }
        }
        candidates.sort(Comparator.comparingDouble(Candidate::cos).reversed());
        Result r = new Result(firstName, firstLayer[1], candidates);
        print(r);
        return r;
    }

    private void print(Result r) {
        out.println("device's first layer: " + r.layer() + " (" + r.op() + "), "
                + (o.floatUpload() ? "float model" : "int8 QDQ model calibrated on the input")
                + "; preprocessing as given: " + describe(o.spec()));
        out.println(String.format(
                Locale.ROOT,
                "  %-9s  %s",
                "cos",
                "candidate preprocessing (host float first layer"
                        + (o.floatUpload() ? ")" : ", on the device's output codes)")));
        for (Candidate c : r.candidates()) {
            out.println(String.format(Locale.ROOT, "  %-9.5f  %s", c.cos(), c.label()));
        }
        Candidate best = r.best();
        Candidate given = r.asGiven();
        String verdict;
        if (best.cos() < MATCH_COS) {
            verdict = String.format(
                    Locale.ROOT,
                    "no candidate preprocessing matches the device's first layer; the"
                            + " closest is the input %s: cos %.5f; as given: cos %.5f",
                    best.label(),
                    best.cos(),
                    given.cos());
        } else if (best.asGiven() || given.cos() >= best.cos() - 1e-4) {
            verdict = String.format(
                    Locale.ROOT,
                    "the device's first layer matches golden run on the input as given:"
                            + " cos %.5f; the preprocessing agrees",
                    given.cos());
        } else {
            verdict = String.format(
                    Locale.ROOT,
                    "the device's first layer matches golden run on the input with %s:"
                            + " cos %.5f; as given: cos %.5f",
                    best.label(),
                    best.cos(),
                    given.cos());
        }
        out.println();
        out.println("Verdict: " + verdict + ".");
        out.flush();
    }

    private static Tensor hostFirstLayer(NpuProgram p, Layer layer, String input, Tensor feed)
            throws SimulatorException {
        if (layer.inputs().stream().allMatch(input::equals)) {
            return p.runLayer(layer.name(), Map.of(input, feed)).real();
        }
        Tensor[] found = new Tensor[1];
        p.run(Map.of(input, feed), (l, v) -> {
            if (l.name().equals(layer.name())) {
                found[0] = v.real();
            }
        });
        return found[0];
    }

    static String label(InputSpec given, boolean swap, boolean nhwc, boolean p255, boolean noNorm) {
        List<String> parts = new ArrayList<>();
        if (swap) {
            parts.add("channels swapped (" + (given.rgb2bgr() ? "RGB" : "BGR") + ")"); // mean/std move with them
        }
        if (nhwc) {
            parts.add("NHWC layout (its NHWC data read as NCHW)");
        }
        if (p255) {
            parts.add("0..255 pixels (not scaled to 0..1)");
        }
        if (noNorm) {
            parts.add("no mean/std");
        }
        return parts.isEmpty() ? "as given" : String.join(", ", parts);
    }

    private static String describe(InputSpec s) {
        return (s.rgb2bgr() ? "BGR" : "RGB") + ", NCHW, " + (s.scale() == 1f ? "0..255" : "0..1")
                + (isIdentity(s)
                        ? ""
                        : ", mean " + java.util.Arrays.toString(s.mean()) + " std "
                                + java.util.Arrays.toString(s.std()));
    }

    private static boolean isIdentity(InputSpec s) {
        for (float m : s.mean()) {
            if (m != 0f) {
                return false;
            }
        }
        for (float v : s.std()) {
            if (v != 1f) {
                return false;
            }
        }
        return true;
    }

    /** Raw RGB NCHW pixels to a model input under {@code s} (the steps of {@code ImageLoader}). */
    static Tensor apply(Tensor raw, InputSpec s) {
        int[] sh = raw.shape();
        int plane = sh[2] * sh[3];
        float[] src = raw.toFloat().floats();
        float[] dst = new float[src.length];
        for (int c = 0; c < 3; c++) {
            int from = (s.rgb2bgr() ? 2 - c : c) * plane;
            float mean = s.mean(c);
            float std = s.std(c);
            for (int i = 0; i < plane; i++) {
                dst[c * plane + i] = (src[from + i] * s.scale() - mean) / std;
            }
        }
        return Tensor.ofFloats(sh, dst);
    }

    /** Undoes {@link #apply}: the raw RGB pixels of a tensor preprocessed under {@code s}. */
    static Tensor unapply(Tensor t, InputSpec s) {
        int[] sh = t.shape();
        int plane = sh[2] * sh[3];
        float[] src = t.toFloat().floats();
        float[] dst = new float[src.length];
        for (int c = 0; c < 3; c++) {
            int to = (s.rgb2bgr() ? 2 - c : c) * plane;
            float mean = s.mean(c);
            float std = s.std(c);
            for (int i = 0; i < plane; i++) {
                dst[to + i] = (src[c * plane + i] * std + mean) / s.scale();
            }
        }
        return Tensor.ofFloats(sh, dst);
    }

    /** The NCHW tensor's pixels laid out NHWC, with the NCHW shape kept: what a layout mix-up feeds. */
    public static Tensor nhwcAsNchw(Tensor t) {
        int[] sh = t.shape();
        int ch = sh[1];
        int plane = sh[2] * sh[3];
        float[] src = t.toFloat().floats();
        float[] dst = new float[src.length];
        for (int c = 0; c < ch; c++) {
            for (int i = 0; i < plane; i++) {
                dst[i * ch + c] = src[c * plane + i];
            }
        }
        return Tensor.ofFloats(sh, dst);
    }

    private static boolean isTensorFile(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".npy") || n.endsWith(".pb");
    }
}
