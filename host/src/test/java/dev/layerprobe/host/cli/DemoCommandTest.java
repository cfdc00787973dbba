package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo needs nothing outside the repository and finds its injected DepthToSpace fault. */
class DemoCommandTest {
    @TempDir
    Path tmp;

    @Test
    void demoFindsTheDepthToSpaceFault() throws Exception {
        CliRun r = CliRun.of("demo", "--report", tmp.toString());
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().contains("<- runtime fault"), r.out());
        assertTrue(r.out().contains("found the injected fault"), r.out());
        JsonNode report = new ObjectMapper().readTree(tmp.resolve("report.json").toFile());
        assertEquals("DepthToSpace", report.at("/root_cause/runtime/op").asText());
        assertTrue(Files.exists(tmp.resolve("report.csv")));
        assertTrue(Files.exists(tmp.resolve("dumps/runtime/manifest.json")));
    }

    @Test
    void demoBisectFindsTheFaultFromTheOutputsAlone() throws Exception {
        CliRun r = CliRun.of("demo", "--bisect", "--report", tmp.toString());
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().contains("found the injected fault: layer 'pixel_shuffle_110'"), r.out());
        assertTrue(r.out().contains("Bisection (the device reports only the model's outputs)"), r.out());
        JsonNode report = new ObjectMapper().readTree(tmp.resolve("report.json").toFile());
        assertEquals("pixel_shuffle_110", report.at("/root_cause/runtime/layer").asText());
        assertTrue(report.at("/root_cause/runtime/evidence").asText().contains("confirmed with RunLayer"));
        assertEquals("pixel_shuffle_110", report.at("/bisect/layer").asText());
        int layers = report.at("/summary/layers").asInt();
        int bound = 32 - Integer.numberOfLeadingZeros(layers - 1) + 3;
        assertTrue(
                report.at("/bisect/device_runs").asInt() <= bound,
                report.at("/bisect").toString());
        assertTrue(Files.readString(tmp.resolve("report.html")).contains("<h2>Bisection</h2>"));
    }

    @Test
    void helpListsTheCommands() {
        CliRun r = CliRun.of("--help");
        assertEquals(0, r.exit());
        assertTrue(
                r.out().contains("analyze")
                        && r.out().contains("agent")
                        && r.out().contains("demo"),
                r.out());
    }
}
