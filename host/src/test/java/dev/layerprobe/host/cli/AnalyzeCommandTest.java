package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code layerprobe analyze} end to end on the shared MobilePose-like model: the embedded
 * emulated device and a separately started agent on a loopback socket, with and without the
 * DepthToSpace fault.
 */
class AnalyzeCommandTest {
    static final String FIRST_D2S = "/head/head.2/DepthToSpace_output_0";

    @TempDir
    static Path tmp;

    static Path calib;
    static Path faultProfile;

    /** Each test skips with a message without ../shared; the calibration subset is made once. */
    @BeforeEach
    void calibrationSubset() throws Exception {
        SharedData.require("models/mobilepose_like.onnx");
        Path all = SharedData.require("images/calib224");
        if (calib != null) {
            return;
        }
        calib = Files.createDirectories(tmp.resolve("calib"));
        try (Stream<Path> s = Files.list(all)) {
            for (Path p : s.sorted().limit(8).toList()) {
                Files.copy(p, calib.resolve(p.getFileName()));
            }
        }
        faultProfile = tmp.resolve("fault.yaml");
        Files.writeString(
                faultProfile,
                "name: faulty-npu\nfaults:\n  - kind: depth_to_space_mode_swap\n    layer: " + FIRST_D2S + "\n");
    }

    static String[] args(Path report, String... extra) {
        Path model = SharedData.require("models/mobilepose_like.onnx");
        Path image = SharedData.require("images/photos/astronaut.png");
        List<String> a = new java.util.ArrayList<>(List.of(
                "analyze",
                model.toString(),
                "--input",
                image.toString(),
                "--calib",
                calib.toString(),
                "--mean",
                "0.485,0.456,0.406",
                "--std",
                "0.229,0.224,0.225",
                "--report",
                report.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    static JsonNode report(Path dir) throws Exception {
        return new ObjectMapper().readTree(dir.resolve("report.json").toFile());
    }

    /** Every layer before the root cause is bit-exact with the simulator; the root cause is the D2S. */
    static void assertFaultAtFirstDepthToSpace(Path dir) throws Exception {
        JsonNode r = report(dir);
        assertEquals(FIRST_D2S, r.at("/root_cause/runtime/layer").asText());
        assertEquals("DepthToSpace", r.at("/root_cause/runtime/op").asText());
        assertTrue(
                r.at("/root_cause/runtime/evidence").asText().contains("confirmed with RunLayer"),
                "device-side isolation confirms the fault: " + r.at("/root_cause/runtime/evidence"));
        boolean before = true;
        for (JsonNode l : r.get("layers")) {
            if (l.get("name").asText().equals(FIRST_D2S)) {
                before = false;
                assertTrue(l.at("/simu_err/cos").asDouble() < 0.5, "the faulty layer differs: " + l.get("simu_err"));
            } else if (before) {
                assertEquals(1.0, l.at("/simu_err/cos").asDouble(), "simu_err cos of " + l.get("name"));
                assertEquals(1.0, l.at("/simu_err/bit_exact").asDouble(), "bit_exact of " + l.get("name"));
            }
        }
        assertTrue(Files.exists(dir.resolve("dumps/runtime/manifest.json")));
        assertTrue(Files.exists(dir.resolve("dumps/golden/manifest.json")));
        assertTrue(Files.exists(dir.resolve("dumps/simulator/manifest.json")));
    }

    @Test
    void cleanDeviceMatchesSimulatorEverywhere() throws Exception {
        Path dir = tmp.resolve("clean");
        CliRun run = CliRun.of(args(dir));
        assertEquals(0, run.exit(), run.err());
        JsonNode r = report(dir);
        assertTrue(r.at("/root_cause/runtime").isNull(), "no runtime root cause: " + r.get("root_cause"));
        assertEquals(69, r.get("layers").size());
        for (JsonNode l : r.get("layers")) {
            assertEquals(1.0, l.at("/simu_err/cos").asDouble(), "simu_err cos of " + l.get("name"));
            assertNotNull(l.get("entire").get("euc"));
            assertTrue(l.at("/per_layer/cos").asDouble() > 0.999, "per_layer of " + l.get("name"));
        }
        assertTrue(run.out().contains("the device matches the simulator on every layer"), run.out());
    }

    @Test
    void manyInputsGiveMeanAndWorstPerLayer() throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("inputs"));
        try (Stream<Path> s = Files.list(calib)) {
            for (Path p : s.sorted().limit(3).toList()) {
                Files.copy(p, folder.resolve(p.getFileName()));
            }
        }
        Files.writeString(folder.resolve("notes.txt"), "not an input");
        Path dir = tmp.resolve("many");
        CliRun run = CliRun.of(args(dir, "--input", folder.toString()));
        assertEquals(0, run.exit(), run.err());
        JsonNode r = report(dir);
        for (JsonNode l : r.get("layers")) {
            for (String column : List.of("entire", "per_layer", "simu_err", "golden_err")) {
                JsonNode m = l.get(column);
                assertEquals(4, m.get("inputs").asInt(), column + " of " + l.get("name"));
                double worst = m.get("cos_worst").asDouble();
                double mean = m.get("cos_mean").asDouble();
                assertTrue(worst <= mean + 1e-12 && mean <= 1 + 1e-12, column + " of " + l.get("name") + ": " + m);
                assertTrue(m.get("worst_input").asInt() >= 0
                        && m.get("worst_input").asInt() < 4);
            }
        }
        assertTrue(run.out().contains("Inputs: 4;"), run.out());
    }

    @Test
    void embeddedDeviceWithFaultPointsAtDepthToSpace() throws Exception {
        Path dir = tmp.resolve("fault");
        CliRun run = CliRun.of(args(dir, "--profile", faultProfile.toString()));
        assertEquals(0, run.exit(), run.err());
        assertFaultAtFirstDepthToSpace(dir);
        assertTrue(run.out().contains("<- runtime fault"), run.out());
        assertTrue(run.out().contains("first departs from the simulator at layer '" + FIRST_D2S + "'"), run.out());
    }

    @Test
    void separateAgentOverLoopbackWithFault() throws Exception {
        AgentConfig config = AgentConfig.builder()
                .profile(DeviceProfile.load(faultProfile))
                .port(0)
                .build();
        try (AgentServer agent = AgentServer.netty(config)) {
            agent.start();
            Path dir = tmp.resolve("device");
            CliRun run =
                    CliRun.of(args(dir, "--profile", faultProfile.toString(), "--device", "127.0.0.1:" + agent.port()));
            assertEquals(0, run.exit(), run.err());
            assertFaultAtFirstDepthToSpace(dir);
            assertEquals("faulty-npu", report(dir).at("/device/name").asText());
        }
    }

    @Test
    void separateCleanAgentOverLoopback() throws Exception {
        try (AgentServer agent = AgentServer.netty(AgentConfig.builder().port(0).build())) {
            agent.start();
            Path dir = tmp.resolve("device-clean");
            CliRun run = CliRun.of(args(dir, "--device", "127.0.0.1:" + agent.port()));
            assertEquals(0, run.exit(), run.err());
            JsonNode r = report(dir);
            assertNull(r.at("/root_cause/runtime").isNull() ? null : r.at("/root_cause/runtime"));
            for (JsonNode l : r.get("layers")) {
                assertEquals(1.0, l.at("/simu_err/cos").asDouble(), "simu_err cos of " + l.get("name"));
            }
        }
    }
}
