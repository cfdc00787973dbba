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
        // Calibrating on 32 of them keeps the test's time on the inputs' analysis.
        Path calib = Files.createDirectories(tmp.resolve("calib"));
        for (int i = 0; i < 32; i++) {
            String name = String.format(java.util.Locale.ROOT, "in_%05d.npy", i * (INPUTS / 32));
            Files.copy(inputs.resolve(name), calib.resolve(name));
        }
        Path log = tmp.resolve("child.log");
        List<String> cmd = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:+ExitOnOutOfMemoryError",
                "-Xlog:gc:file=" + tmp.resolve("gc.log"),
                "--add-modules",
                "jdk.incubator.vector",
                "-cp",
                System.getProperty("java.class.path"),
                LayerProbeCli.class.getName(),
                "analyze",
                model.toString(),
                "--input",
                inputs.toString(),
                "--calib",
                calib.toString(),
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
        // The heap in use, from the GC log's "before->after(committed)" of every collection.
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)")
                .matcher(Files.readString(tmp.resolve("gc.log")));
        int peak = 0;
        int live = 0;
        while (m.find()) {
            peak = Math.max(peak, Integer.parseInt(m.group(1)));
            live = Math.max(live, Integer.parseInt(m.group(2)));
        }
        System.out.printf(
                java.util.Locale.ROOT,
                "10000 inputs under -Xmx256m: %.1f s; heap at most %d MB before a collection, %d MB after%n",
                seconds,
                peak,
                live);
    }

    private static String tail(String s) {
        return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
    }
}
