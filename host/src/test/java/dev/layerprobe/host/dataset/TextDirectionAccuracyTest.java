package dev.layerprobe.host.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.cli.LayerProbeCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PaddleOCR text-direction classifier on the shared text crops, labelled by name (names ending
 * {@code _rot180} are class 1, the others 0): golden's accuracy is ONNX Runtime's, 11 of 12, since
 * ONNX Runtime itself reads {@code text_10} upside down; the report gives the simulator's and the
 * device's accuracy and their agreement with golden. Skips without ../shared.
 */
class TextDirectionAccuracyTest {
    @TempDir
    Path tmp;

    @Test
    void goldenAccuracyIsOnnxRuntimes() throws Exception {
        Path model = SharedData.require("models/ppocr_cls.onnx");
        Path text = SharedData.require("images/text");
        List<String> lines = new ArrayList<>(List.of("file,label"));
        try (Stream<Path> s = Files.list(text)) {
            for (Path p : s.sorted().toList()) {
                String n = p.getFileName().toString();
                lines.add(n + "," + (n.replaceFirst("\\.[^.]*$", "").endsWith("_rot180") ? 1 : 0));
            }
        }
        Path labels = Files.write(tmp.resolve("labels.csv"), lines);
        Path report = tmp.resolve("report");
        StringWriter out = new StringWriter();
        int code = LayerProbeCli.commandLine(new PrintWriter(out, true), new PrintWriter(out, true))
                .execute(
                        "analyze",
                        model.toString(),
                        "--input",
                        text.toString(),
                        "--labels",
                        labels.toString(),
                        "--mean",
                        "0.5",
                        "--std",
                        "0.5",
                        "--rgb2bgr",
                        "--size",
                        "192x48",
                        "--report",
                        report.toString());
        assertEquals(0, code, out.toString());
        JsonNode r = new ObjectMapper().readTree(report.resolve("report.json").toFile());
        JsonNode task = r.get("task");
        assertEquals(2, task.get("classes").asInt());
        JsonNode accuracy = task.get("accuracy");
        assertEquals(12, accuracy.get("labelled").asInt());
        assertEquals(11.0 / 12, accuracy.get("golden").asDouble(), 1e-12, task.toString());
        for (JsonNode in : r.get("inputs")) {
            if (in.get("file").asText().equals("text_10.png")) {
                assertEquals(1, in.get("golden_top1").asInt(), "ONNX Runtime reads text_10 upside down");
            }
        }
        for (String side : List.of("simulator", "device")) {
            double a = accuracy.get(side).asDouble();
            assertTrue(a >= 0 && a <= 1, side);
            assertEquals(
                    accuracy.get("golden").asDouble() - a,
                    accuracy.get(side + "_drop").asDouble(),
                    1e-12);
            double agree = task.at("/top1/" + side).asDouble();
            assertTrue(agree >= 0 && agree <= 1, side);
        }
    }
}
