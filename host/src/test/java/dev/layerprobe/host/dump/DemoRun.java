package dev.layerprobe.host.dump;

import dev.layerprobe.host.cli.LayerProbeCli;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The demo's analysis, run once per JVM, as a source of real runs: {@code dumps/golden} (float),
 * {@code dumps/simulator} (int8 codes) and {@code dumps/runtime} (codes, wrong from the
 * DepthToSpace layer on), plus the model. Needs nothing outside the repository.
 */
public final class DemoRun {
    private static Path dir;

    private DemoRun() {}

    /** The demo's report folder, created on first use. */
    public static synchronized Path dir() throws IOException {
        if (dir == null) {
            Path d = Files.createTempDirectory("layerprobe-demo-run");
            StringWriter out = new StringWriter();
            int code = LayerProbeCli.commandLine(new PrintWriter(out, true), new PrintWriter(out, true))
                    .execute("demo", "--report", d.toString());
            if (code != 0) {
                throw new IllegalStateException("the demo failed (" + code + "): " + out);
            }
            dir = d;
            // Shared by every test class of the JVM, so it goes when the JVM does.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(d), "demo-run-cleanup"));
        }
        return dir;
    }

    private static void delete(Path d) {
        try (Stream<Path> s = Files.walk(d)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // Best effort: a temporary folder left behind is harmless.
        }
    }

    /** The name of the layer the demo's device computes wrongly (the DepthToSpace layer). */
    public static String faultLayer() throws IOException {
        return new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(dir().resolve("report.json").toFile())
                .at("/root_cause/runtime/layer")
                .asText();
    }
}
