package dev.layerprobe.host.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.host.cli.LayerProbeCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code analyze} over 10,000 inputs (1x3x32x32 .npy, the small int8 classifier) in a child JVM
 * limited to a 256 MB heap: inputs are loaded as they run and each leaves only a compact result, so
 * the run finishes and its report lists every input. Takes a minute or two on two cores.
 */
class TenThousandInputsTest {
    static final int INPUTS = 10_000;

    @TempDir
    Path tmp;

    @Test
    void tenThousandInputsFitInA256MegabyteHeap() throws Exception {
        Path model = SmallClassifier.write(tmp.resolve("small.onnx"), 7);
        Path inputs = SmallClassifier.inputs(tmp.resolve("inputs"), INPUTS, 13);
        Path report = tmp.resolve("report");
        Path log = tmp.resolve("child.log");
        List<String> cmd = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:+ExitOnOutOfMemoryError",
                "--add-modules",
                "jdk.incubator.vector",
                "-cp",
                System.getProperty("java.class.path"),
                LayerProbeCli.class.getName(),
                "analyze",
                model.toString(),
                "--input",
                inputs.toString(),
                "--report",
                report.toString());
        long start = System.nanoTime();
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        boolean finished = p.waitFor(10, TimeUnit.MINUTES);
        if (!finished) {
            p.destroyForcibly();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        String out = Files.readString(log);
        assertTrue(finished, "still running after 10 minutes: " + tail(out));
        assertEquals(0, p.exitValue(), tail(out));
        JsonNode r = new ObjectMapper().readTree(report.resolve("report.json").toFile());
        assertEquals(INPUTS, r.get("inputs").size());
        assertEquals(INPUTS, r.at("/task/inputs").asInt());
        assertEquals(
                INPUTS + 1, Files.readAllLines(report.resolve("inputs.csv")).size());
        System.out.printf(java.util.Locale.ROOT, "10000 inputs under -Xmx256m: %.1f s%n", seconds);
    }

    private static String tail(String s) {
        return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
    }
}
