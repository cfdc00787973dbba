package dev.layerprobe.simulator;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Assumptions;

/** Locates ../shared (models, images, ONNX test data) beside the project; tests skip without it. */
public final class SharedData {
    private SharedData() {}

    public static Path root() {
        String prop = System.getProperty("layerprobe.root");
        Path p = prop != null ? Paths.get(prop) : Paths.get("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("simulator"))) {
            p = p.getParent();
        }
        return p == null ? Paths.get("").toAbsolutePath() : p;
    }

    /** A path under ../shared, or skips the calling test with a message naming it. */
    public static Path require(String relative) {
        Path p = root().resolve("..").resolve("shared").resolve(relative).normalize();
        Assumptions.assumeTrue(
                Files.exists(p), "../shared/" + relative + " not found: test skipped (it needs the shared test data)");
        return p;
    }
}
