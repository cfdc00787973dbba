package dev.layerprobe.host.pinned;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.dump.DemoRun;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.host.quantize.QuantizationOptions;
import dev.layerprobe.host.quantize.Quantizer;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.Fault;
import dev.layerprobe.simulator.profile.FaultKind;
import dev.layerprobe.simulator.profile.RequantMode;
import dev.layerprobe.simulator.quant.CalibrationAlgorithm;
import dev.layerprobe.simulator.quant.LayerPrecision;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Pins what the integer programs compute, so that a faster kernel is shown to change no code: every
 * shared model, quantized as {@code quantize} does it (minmax on the first four calibration inputs,
 * int8, weights per channel), runs on one fixed input under three profiles (the default, requant
 * fixed; requant float, where Conv/MatMul layers ONNX Runtime leaves unfused take the ORT-compatible
 * float kernels; and the accumulator_int16_wrap fault on every Conv and Gemm), and every layer's
 * output codes must hash to the SHA-256 pinned in {@code integer-codes.json} beside this class.
 * The demo's report.json (without the machine's versions) and its simulator and runtime dumps are
 * pinned the same way.
 *
 * <p>The QDQ file and the input are pinned too: they come from calibration and preprocessing, which
 * run float code, so when they differ the layer codes cannot be compared and the test says so
 * instead of blaming a layer.
 *
 * <p>Pins are written only on request: {@code -Dlayerprobe.pins.write=true} (e.g. {@code mvn -pl
 * host -am verify -Dtest=PinnedCodesTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dlayerprobe.pins.write=true}) recomputes the entries of the tests that run, writes them into the
 * source tree and skips those tests; run again without the property to check. Regenerate only when
 * a change of the numerics is intended, and say so in the commit.
 */
class PinnedCodesTest {
    static final String WRITE_PROPERTY = "layerprobe.pins.write";
    private static final String RESOURCE = "integer-codes.json";
    private static final int CALIBRATION_INPUTS = 4;
    private static final InputSpec PADDLE = new InputSpec(new float[] {0.5f}, new float[] {0.5f}, true, 1f / 255f);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The profiles every model runs under, by the name its pins have; the fault is placed on the
     * Conv and Gemm layers the program has (a fault naming an op the model lacks is an error).
     */
    static Map<String, DeviceProfile> profiles(NpuProgram program) {
        List<Fault> wrap = new ArrayList<>();
        for (String op : List.of("Conv", "Gemm")) {
            if (program.layers().stream().anyMatch(l -> l.op().equals(op))) {
                wrap.add(new Fault(FaultKind.ACCUMULATOR_INT16_WRAP, null, op));
            }
        }
        Map<String, DeviceProfile> p = new LinkedHashMap<>();
        p.put("fixed", DeviceProfile.DEFAULT);
        p.put("float", DeviceProfile.DEFAULT.withRequant(RequantMode.FLOAT));
        p.put("accumulator_int16_wrap", new DeviceProfile("wrap", RequantMode.FIXED, wrap, ""));
        return p;
    }

    @ParameterizedTest
    @CsvSource({
        "mobilenet_v2, calib224, imagenet, photos/astronaut.png,",
        "mobilepose_like, calib224, imagenet, photos/astronaut.png,",
        "espcn_x3, calib224, imagenet, photos/chelsea.png,",
        "tiny_transformer, calib224, imagenet, photos/coffee.png,",
        "ppocr_cls, text, paddle, text/text_01_rot180.png, 1x3x48x192",
        "gru_kws, mfcc, imagenet, mfcc/mfcc_00.npy,"
    })
    void everyLayerGivesThePinnedCodes(String model, String calib, String preprocessing, String input, String shape)
            throws Exception {
        Path file = SharedData.require("models/" + model + ".onnx");
        Path calibDir = SharedData.require("images/" + calib);
        Path inputFile = SharedData.require("images/" + input);
        InputSpec spec = preprocessing.equals("paddle") ? PADDLE : InputSpec.IMAGENET;
        NpuProgram fp = Simulator.compile(file, CompileOptions.DEFAULT);
        String inputName = fp.inputs().get(0).name();
        if (shape != null) {
            fp = Simulator.compile(file, CompileOptions.DEFAULT.withInputShapes(Map.of(inputName, dims(shape))));
        }
        List<Path> calibFiles;
        try (Stream<Path> l = Files.list(calibDir)) {
            calibFiles = l.sorted().limit(CALIBRATION_INPUTS).toList();
        }
        ModelProto floatModel = OnnxGraphs.readModel(file);
        QuantizationOptions q =
                new QuantizationOptions(LayerPrecision.INT8, true, CalibrationAlgorithm.MINMAX, 99.99, null, null);
        Quantizer quantizer = new Quantizer(new PrintWriter(new StringWriter()));
        ModelProto qdq =
                quantizer.quantize(fp, quantizer.calibrate(fp, floatModel.toByteArray(), calibFiles, spec, q), q);
        Tensor x = InputLoader.load(inputFile, fp.inputs().get(0).shape(), spec);

        PinEntry actual = new PinEntry();
        actual.whole("qdq", Sha256.hexOf(qdq.toByteArray()));
        actual.whole("input", LayerHashes.of(x));
        for (Map.Entry<String, DeviceProfile> p : profiles(fp).entrySet()) {
            NpuProgram program = Simulator.compile(qdq, model, CompileOptions.of(p.getValue()));
            assertTrue(program.isQuantized(), model);
            actual.run(p.getKey(), LayerHashes.run(program, Map.of(inputName, x)));
        }
        check(model, actual);
    }

    @Test
    void theDemoGivesThePinnedDumps() throws Exception {
        Path dir = DemoRun.dir();
        PinEntry actual = new PinEntry();
        for (String run : List.of("simulator", "runtime")) {
            Map<String, String> dumps = new LinkedHashMap<>();
            try (Stream<Path> l = Files.list(dir.resolve("dumps").resolve(run))) {
                for (Path f :
                        l.filter(f -> f.toString().endsWith(".npy")).sorted().toList()) {
                    dumps.put(f.getFileName().toString(), Sha256.hexOf(f));
                }
            }
            assertTrue(dumps.size() > 0, "the demo wrote no " + run + " dumps");
            actual.run(run + " dumps", dumps);
        }
        check("demo", actual);
    }

    /**
     * The demo's report.json, pinned per kind of CPU: its float metrics come from ONNX Runtime's
     * float kernels and the JVM's vector code, which sum in another order with 512-bit vectors than
     * with 256-bit ones, so the last bits of a cosine differ between an AVX-512 and an AVX2 machine
     * (the integer codes, pinned above, do not). On a kind of CPU without a pin the test is skipped
     * and says so.
     */
    @Test
    void theDemoGivesThePinnedReportOnThisKindOfCpu() throws Exception {
        ObjectNode report =
                (ObjectNode) JSON.readTree(DemoRun.dir().resolve("report.json").toFile());
        // The JVM's and LayerProbe's versions belong to the machine, not to the numerics.
        ((ObjectNode) report.get("device")).remove("versions");
        PinEntry actual = new PinEntry();
        actual.whole("report", Sha256.hexOf(JSON.writeValueAsBytes(report)));
        String key = "demo report (" + CpuKind.current() + ")";
        if (!Boolean.getBoolean(WRITE_PROPERTY)
                && PinFile.read(PinnedCodesTest.class.getResource(RESOURCE)).get(key) == null) {
            Assumptions.abort("no pinned report.json for this kind of CPU (" + CpuKind.current() + "), only for "
                    + pinnedCpus() + "; the demo's dumps are checked all the same");
        }
        check(key, actual);
    }

    private static List<String> pinnedCpus() throws Exception {
        List<String> cpus = new java.util.ArrayList<>();
        PinFile.read(PinnedCodesTest.class.getResource(RESOURCE)).fieldNames().forEachRemaining(k -> {
            if (k.startsWith("demo report (")) {
                cpus.add(k.substring("demo report (".length(), k.length() - 1));
            }
        });
        return cpus;
    }

    /** Compares with the pinned entry, or writes it when asked to (and skips). */
    private static void check(String key, PinEntry actual) throws Exception {
        if (Boolean.getBoolean(WRITE_PROPERTY)) {
            Path written = PinFile.put(key, actual.toJson());
            Assumptions.abort("pins of " + key + " written to " + written + "; run again without -D" + WRITE_PROPERTY);
        }
        JsonNode expected =
                PinFile.read(PinnedCodesTest.class.getResource(RESOURCE)).get(key);
        assertNotNull(
                expected,
                "no pins for " + key + " in " + RESOURCE + " (write them with -D" + WRITE_PROPERTY + "=true)");
        for (String upstream : List.of("qdq", "input")) {
            assertEquals(
                    expected.path(upstream).asText(null),
                    actual.whole(upstream),
                    key + ": the " + upstream + " differs from the pinned one (calibration, quantization or"
                            + " preprocessing changed, not the integer kernels), so its codes cannot be compared");
        }
        List<String> differ = actual.differences(expected);
        assertTrue(
                differ.isEmpty(),
                key + ": " + differ.size() + " values differ from the pins, first "
                        + differ.subList(0, Math.min(8, differ.size())));
    }

    private static int[] dims(String shape) {
        return java.util.regex.Pattern.compile("x")
                .splitAsStream(shape)
                .mapToInt(Integer::parseInt)
                .toArray();
    }
}
