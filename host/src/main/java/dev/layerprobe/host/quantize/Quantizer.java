package dev.layerprobe.host.quantize;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.host.progress.Progress;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.CalibrationAlgorithm;
import dev.layerprobe.simulator.quant.CalibrationCache;
import dev.layerprobe.simulator.quant.CalibrationOptions;
import dev.layerprobe.simulator.quant.HybridSpec;
import dev.layerprobe.simulator.quant.LayerPrecision;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.quant.QuantConfig;
import dev.layerprobe.simulator.quant.SmoothQuant;
import java.awt.Dimension;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Calibrates a float program on a folder of inputs and writes the quantized model as QDQ ONNX, the
 * way {@code quantize} and {@code analyze} share: progress on calibration, an optional cache of
 * the calibration statistics, hybrid per-layer precisions, a note when calibration images have
 * another size than the model input. Not thread-safe.
 */
public final class Quantizer {
    private final PrintWriter out;
    /** The calibration sets already noted as resized, so a second calibration on them says it once. */
    private final java.util.Set<List<Path>> notedResized = new java.util.HashSet<>();

    public Quantizer(PrintWriter out) {
        this.out = out;
    }

    /** The calibration files of a folder, sorted; one-line errors for a missing or empty folder. */
    public static List<Path> listInputs(Path dir) throws InputException {
        return InputLoader.filesIn(dir, "calibration");
    }

    /**
     * Calibrates on the files (loaded lazily, one at a time per pass), or reuses the cache when it
     * matches the model, the files and the preprocessing.
     */
    public Calibration calibrate(
            NpuProgram floatProgram, byte[] modelBytes, List<Path> files, InputSpec spec, QuantizationOptions q)
            throws SimulatorException, InputException, IOException {
        ValueInfo in = floatProgram.inputs().get(0);
        int[] shape = in.shape();
        noteResizedImages(files, shape);
        CalibrationOptions copts = calibrationOptions(q);
        String key = q.calibCache() == null
                ? null
                : CalibrationCache.key(
                        modelBytes,
                        files,
                        spec + " shape " + Arrays.toString(shape)
                                + (q.smoothed() ? " smooth-quant " + q.smoothQuant() : ""));
        if (q.calibCache() != null) {
            CalibrationCache.Lookup hit = CalibrationCache.lookup(q.calibCache(), key, copts.algorithm());
            if (hit.isHit()) {
                out.println("calibration: reusing " + q.calibCache());
                return hit.calibration().withOptions(copts);
            }
            if (Files.exists(q.calibCache())) {
                out.println("calibration: not reusing " + q.calibCache() + ": " + hit.reason());
            }
        }
        // Histograms are always gathered when caching, so a cache serves every algorithm later.
        CalibrationOptions collectWith =
                q.calibCache() != null && !copts.algorithm().needsHistogram()
                        ? copts.withAlgorithm(CalibrationAlgorithm.KL)
                        : copts;
        LazyInputs samples = new LazyInputs(files, in.name(), shape, spec);
        Calibration c;
        try (Progress progress =
                Progress.start("calibrating", (long) files.size() * Calibration.passes(collectWith.algorithm()), out)) {
            c = Calibration.collect(floatProgram, samples, collectWith, n -> progress.stepTo(n));
        } catch (LazyInputs.LoadFailure e) {
            throw e.getCause();
        }
        if (q.calibCache() != null) {
            c.save(q.calibCache(), key);
            out.println("calibration: saved statistics to " + q.calibCache());
        }
        return c.withOptions(copts);
    }

    /**
     * The float program calibration and quantization start from: the program itself, or with
     * {@code --smooth-quant} its SmoothQuant form, measured on the calibration files (one pass).
     * Says what it did.
     */
    public SmoothQuant.Result smooth(
            NpuProgram floatProgram, String modelName, List<Path> files, InputSpec spec, QuantizationOptions q)
            throws SimulatorException, InputException {
        if (!q.smoothed()) {
            return new SmoothQuant.Result(floatProgram, null, 0, 0, 1, Map.of());
        }
        ValueInfo in = floatProgram.inputs().get(0);
        LazyInputs samples = new LazyInputs(files, in.name(), in.shape(), spec);
        SmoothQuant.Result r;
        try (Progress progress = Progress.start("smoothing", files.size(), out)) {
            r = SmoothQuant.apply(floatProgram, modelName, samples, q.smoothQuant(), n -> progress.stepTo(n));
        } catch (LazyInputs.LoadFailure e) {
            throw e.getCause();
        }
        if (r.changed()) {
            out.printf(
                    java.util.Locale.ROOT,
                    "smooth-quant: alpha %s at %d activations (%d weights), factors within %.3gx%n",
                    q.smoothQuant(),
                    r.activations(),
                    r.weights(),
                    r.largestFactor());
        } else {
            out.println("smooth-quant: nothing to smooth (no LayerNorm-like output read only by MatMul/Gemm weights)");
        }
        return r;
    }

    /** The QDQ model of a float program under the options (hybrid file checked against the program). */
    public ModelProto quantize(NpuProgram floatProgram, Calibration calibration, QuantizationOptions q)
            throws SimulatorException, IOException {
        QuantConfig config = config(q);
        if (q.hybrid() != null) {
            HybridSpec hybrid = HybridSpec.load(q.hybrid());
            hybrid.validate(floatProgram);
            config = config.withOverrides(hybrid.layers());
        }
        return QdqWriter.write(floatProgram, calibration, config);
    }

    /**
     * Says which If branches no calibration input took: their layers have no ranges, so the QDQ file
     * keeps their outputs float and they run on the CPU (see the simulator's QdqWriter).
     */
    public void noteUncalibratedBranches(NpuProgram floatProgram, Calibration calibration) {
        Map<String, List<String>> branches = new LinkedHashMap<>();
        for (Layer l : floatProgram.layers()) {
            if (floatProgram.branchOwner(l.name()).isPresent()) {
                branches.computeIfAbsent(l.attributes().get("in_branch"), k -> new ArrayList<>())
                        .add(l.name());
            }
        }
        branches.forEach((branch, layers) -> {
            if (layers.stream().allMatch(l -> calibration.range(l) == null)) {
                out.println("note: the " + branch + " ran on no calibration input: its " + layers.size()
                        + " layers stay float32 on the CPU (calibrate on inputs that take it too)");
            }
        });
    }

    /**
     * How the integer weights of a written QDQ model are stored, read from the file: per output
     * channel (a DequantizeLinear with one scale per channel) or per tensor, counted over the weight
     * DequantizeLinear of Conv and Gemm nodes (a weight of one output channel counts as neither);
     * how many of the per-channel ones are {@code com.microsoft} contrib ops; the model's opset.
     */
    public record WrittenWeights(int perChannel, int perTensor, int contribPerChannel, int opset) {
        public static WrittenWeights of(ModelProto qdq) {
            Map<String, TensorProto> init = new HashMap<>();
            qdq.getGraph().getInitializerList().forEach(t -> init.put(t.getName(), t));
            Map<String, NodeProto> weightReaders = new HashMap<>();
            for (NodeProto n : qdq.getGraph().getNodeList()) {
                if ((n.getOpType().equals("Conv") || n.getOpType().equals("Gemm")) && n.getInputCount() > 1) {
                    weightReaders.put(n.getInput(1), n);
                }
            }
            int perChannel = 0;
            int perTensor = 0;
            int contrib = 0;
            for (NodeProto dq : qdq.getGraph().getNodeList()) {
                NodeProto reader = dq.getOutputCount() == 1 ? weightReaders.get(dq.getOutput(0)) : null;
                TensorProto w = init.get(dq.getInput(0));
                TensorProto scale = dq.getInputCount() > 1 ? init.get(dq.getInput(1)) : null;
                if (!dq.getOpType().equals("DequantizeLinear") || reader == null || w == null || scale == null) {
                    continue;
                }
                long scales = scale.getDimsList().stream().reduce(1L, (a, b) -> a * b);
                if (scales > 1) {
                    perChannel++;
                    contrib += dq.getDomain().equals("com.microsoft") ? 1 : 0;
                } else if (outputChannels(reader, w) > 1) {
                    perTensor++;
                }
            }
            return new WrittenWeights(perChannel, perTensor, contrib, onnxOpset(qdq));
        }

        private static long outputChannels(NodeProto reader, TensorProto w) {
            if (w.getDimsCount() == 0) {
                return 1;
            }
            boolean transB =
                    reader.getAttributeList().stream().anyMatch(a -> a.getName().equals("transB") && a.getI() != 0);
            int axis = reader.getOpType().equals("Gemm") && !transB && w.getDimsCount() > 1 ? 1 : 0;
            return w.getDims(axis);
        }
    }

    /** The ONNX-domain opset a model imports. */
    public static int onnxOpset(ModelProto m) {
        return m.getOpsetImportList().stream()
                .filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
                .mapToInt(o -> (int) o.getVersion())
                .findFirst()
                .orElse(0);
    }

    /**
     * The options as {@link QuantizationOptions#describe()} words them, with the weights per channel
     * or per tensor as the written file has them; a mixed file says how many are per tensor.
     */
    public static String describeWritten(QuantizationOptions q, ModelProto qdq) {
        WrittenWeights w = WrittenWeights.of(qdq);
        if (!q.precision().isInteger() || w.perChannel() + w.perTensor() == 0) {
            return q.describe();
        }
        String d = new QuantizationOptions(
                        q.precision(), w.perChannel() > 0, q.algorithm(), q.percentile(), q.hybrid(), q.calibCache())
                .describe();
        if (w.perChannel() > 0 && w.perTensor() > 0) {
            d = d.replaceFirst(
                    " per-channel",
                    " per-channel (" + w.perTensor() + " of " + (w.perChannel() + w.perTensor())
                            + " weights per-tensor)");
        }
        return d;
    }

    /**
     * What an engineer should know about the written file's form beyond the options: per-axis
     * DequantizeLinear in ONNX Runtime's {@code com.microsoft} domain (opsets below 13 have no
     * per-axis ONNX one), an opset raised to 11 (see the simulator's QdqWriter).
     */
    public static List<String> formNotes(ModelProto floatModel, ModelProto qdq) {
        List<String> notes = new ArrayList<>();
        WrittenWeights w = WrittenWeights.of(qdq);
        int from = onnxOpset(floatModel);
        if (w.opset() != from) {
            notes.add("opset " + from + " raised to " + w.opset() + " (QuantizeLinear/DequantizeLinear exist from 10,"
                    + " ONNX Runtime's optimizer needs 11)");
        }
        if (w.contribPerChannel() > 0) {
            notes.add("per-channel weights in com.microsoft DequantizeLinear (ONNX Runtime's; the ONNX one takes an"
                    + " axis from opset 13, the model is opset " + w.opset() + ")");
        }
        return notes;
    }

    public static QuantConfig config(QuantizationOptions q) {
        QuantConfig base = QuantConfig.of(q.precision());
        return new QuantConfig(base.activations(), base.weights(), q.perChannel(), Map.of());
    }

    public static CalibrationOptions calibrationOptions(QuantizationOptions q) {
        LayerPrecision p = q.precision();
        CalibrationOptions o = CalibrationOptions.of(q.algorithm()).withPercentile(q.percentile());
        return p.isInteger() ? o.withActivations(p.activationType()) : o;
    }

    private void noteResizedImages(List<Path> files, int[] shape) {
        if (shape.length != 4 || !notedResized.add(List.copyOf(files))) {
            return;
        }
        int other = 0;
        String example = null;
        for (Path f : files) {
            Dimension d = imageSize(f);
            if (d != null && (d.height != shape[2] || d.width != shape[3])) {
                other++;
                if (example == null) {
                    example = f.getFileName() + " is " + d.width + "x" + d.height;
                }
            }
        }
        if (other > 0) {
            out.printf(
                    "note: %d of %d calibration images are not %dx%d (%s); they are resized to the model input%n",
                    other, files.size(), shape[3], shape[2], example);
        }
    }

    private static Dimension imageSize(Path f) {
        try (ImageInputStream s = ImageIO.createImageInputStream(f.toFile())) {
            if (s == null) {
                return null;
            }
            var readers = ImageIO.getImageReaders(s);
            if (!readers.hasNext()) {
                return null;
            }
            ImageReader r = readers.next();
            try {
                r.setInput(s);
                return new Dimension(r.getWidth(0), r.getHeight(0));
            } finally {
                r.dispose();
            }
        } catch (IOException e) {
            return null; // the loader reports unreadable files with its own message
        }
    }

    /**
     * Calibration inputs loaded when the calibration reaches them, so a large set never sits in
     * memory; load errors surface as {@link LoadFailure} and are rethrown as the input error.
     */
    static final class LazyInputs extends AbstractList<Map<String, Tensor>> {
        private final List<Path> files;
        private final String name;
        private final int[] shape;
        private final InputSpec spec;

        LazyInputs(List<Path> files, String name, int[] shape, InputSpec spec) {
            this.files = files;
            this.name = name;
            this.shape = shape;
            this.spec = spec;
        }

        @Override
        public Map<String, Tensor> get(int i) {
            try {
                return Map.of(name, InputLoader.load(files.get(i), shape, spec));
            } catch (InputException e) {
                throw new LoadFailure(e);
            }
        }

        @Override
        public int size() {
            return files.size();
        }

        static final class LoadFailure extends RuntimeException {
            LoadFailure(InputException e) {
                super(e.getMessage(), e, false, false);
            }

            @Override
            public synchronized InputException getCause() {
                return (InputException) super.getCause();
            }
        }
    }
}
