package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.host.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every shared model through {@code analyze}: unquantized, the float simulator agrees with ONNX
 * Runtime on every layer (entire cos ≥ 0.99999); quantized, the analysis runs to its report. The
 * OCR classifier, exported with dynamic height and width, runs at two sizes.
 */
class WholeModelsTest {
    @TempDir
    Path tmp;

    private static List<String> args(String model, Path report, String... extra) {
        List<String> a = new ArrayList<>();
        a.add("analyze");
        a.add(SharedData.require("models/" + model).toString());
        if (model.startsWith("ppocr")) {
            a.addAll(List.of(
                    "--input",
                    SharedData.require("images/text/text_01_rot180.png").toString(),
                    "--mean",
                    "0.5",
                    "--std",
                    "0.5",
                    "--rgb2bgr"));
        } else {
            a.addAll(List.of(
                    "--input",
                    SharedData.require("images/photos/astronaut.png").toString(),
                    "--mean",
                    "0.485,0.456,0.406",
                    "--std",
                    "0.229,0.224,0.225"));
        }
        a.addAll(List.of("--report", report.toString()));
        a.addAll(List.of(extra));
        return a;
    }

    private static JsonNode run(List<String> args, Path report) throws Exception {
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        return new ObjectMapper().readTree(report.resolve("report.json").toFile());
    }

    @ParameterizedTest
    @ValueSource(strings = {"mobilenet_v2.onnx", "mobilepose_like.onnx", "espcn_x3.onnx", "ppocr_cls.onnx"})
    void floatSimulatorMatchesOnnxRuntimeOnEveryLayer(String model) throws Exception {
        Path report = tmp.resolve("f");
        JsonNode r = run(args(model, report, "--dtype", "float32"), report);
        List<String> low = new ArrayList<>();
        for (JsonNode l : r.get("layers")) {
            double cos = l.at("/entire/cos").asDouble();
            if (!(cos >= 0.99999)) {
                low.add(l.get("name").asText() + " " + cos);
            }
            assertEquals(1.0, l.at("/simu_err/cos").asDouble(), "device equals host simulator at " + l.get("name"));
            assertTrue(l.get("fused_nodes").size() >= 1, "covered ONNX nodes listed");
        }
        assertTrue(low.isEmpty(), model + ": layers with entire cos < 0.99999: " + low);
        assertTrue(r.get("layers").size() > 3);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mobilenet_v2.onnx", "espcn_x3.onnx", "ppocr_cls.onnx"})
    void int8AnalysisRunsToItsReport(String model) throws Exception {
        Path report = tmp.resolve("q");
        JsonNode r = run(args(model, report), report);
        assertTrue(r.at("/root_cause/runtime").isNull());
        JsonNode last = r.get("layers").get(r.get("layers").size() - 1);
        assertTrue(last.at("/entire/cos").asDouble() > 0.5, "final entire cos " + last.get("entire"));
        assertTrue(Files.exists(report.resolve(model.replace(".onnx", ".qdq.onnx"))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"192x48", "320x48"})
    void dynamicHeightAndWidthRunAtTheRequestedSize(String size) throws Exception {
        Path report = tmp.resolve("s" + size);
        JsonNode r = run(args("ppocr_cls.onnx", report, "--size", size, "--dtype", "float32"), report);
        int width = Integer.parseInt(size.substring(0, size.indexOf('x')));
        JsonNode first = r.get("layers").get(0);
        assertEquals(
                width / 2, first.get("shape").get(3).asInt(), "first conv halves the width: " + first.get("shape"));
        JsonNode last = r.get("layers").get(r.get("layers").size() - 1);
        assertEquals(2, last.get("shape").get(1).asInt());
        assertTrue(last.at("/entire/cos").asDouble() >= 0.99999);
    }
}
