package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.host.dump.DemoRun;
import dev.layerprobe.host.dump.StandInRknnRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole analysis against real hardware's path: an agent on a loopback socket whose exec backend
 * runs a stand-in vendor runtime (a script that runs the model with a faulty DepthToSpace and
 * leaves RKNN runtime dumps); {@code analyze --device} gets the full report and finds the fault.
 */
class ExecBackendEndToEndTest {
    @TempDir
    Path tmp;

    @Test
    void analyzeAgainstAnExecAgentFindsTheVendorRuntimesFault() throws Exception {
        Path demo = DemoRun.dir();
        Path profile = tmp.resolve("faulty.yaml");
        Files.writeString(
                profile, "name: stand-in-npu\nfaults:\n  - kind: depth_to_space_mode_swap\n    op: DepthToSpace\n");
        Path script = tmp.resolve("vendor_runtime.sh");
        Files.writeString(
                script,
                "#!/usr/bin/env bash\n"
                        + "# A stand-in for a vendor runtime: runs the model and leaves RKNN-style dumps in $RKNN_DUMP_DIR.\n"
                        + "set -euo pipefail\n"
                        + "exec \"$JAVA\" -cp \"$CP\" " + StandInRknnRuntime.class.getName()
                        + " \"$1\" \"$2\" \"$RKNN_DUMP_DIR\" \"$PROFILE\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path work = Files.createDirectories(tmp.resolve("work"));
        Path config = tmp.resolve("agent.yaml");
        Files.writeString(
                config,
                "exec:\n"
                        + "  device: stand-in-board\n"
                        + "  command: " + script + "\n"
                        + "  args: [\"{model}\", \"{input}\"]\n"
                        + "  env:\n"
                        + "    RKNN_DUMP_DIR: \"{dumps}\"\n"
                        + "    JAVA: \"" + Path.of(System.getProperty("java.home"), "bin", "java") + "\"\n"
                        + "    CP: \"" + System.getProperty("java.class.path") + "\"\n"
                        + "    PROFILE: \"" + profile + "\"\n"
                        + "  dump_dir: rknn_dumps\n"
                        + "  layout: rknn-runtime\n"
                        + "  timeout_seconds: 120\n"
                        + "  work_root: " + work + "\n");
        List<Path> images;
        try (Stream<Path> s = Files.list(demo.resolve("images"))) {
            images = s.sorted().toList();
        }
        AgentConfig agent = AgentConfig.builder()
                .backend("exec")
                .backendConfig(config)
                .port(0)
                .build();
        try (AgentServer server = AgentServer.netty(agent)) {
            server.start();
            Path report = tmp.resolve("report");
            CliRun r = CliRun.of(
                    "analyze",
                    demo.resolve("demo_pose.onnx").toString(),
                    "--input",
                    images.get(0).toString(),
                    "--calib",
                    demo.resolve("images").toString(),
                    "--mean",
                    "0.485,0.456,0.406",
                    "--std",
                    "0.229,0.224,0.225",
                    "--device",
                    "127.0.0.1:" + server.port(),
                    "--report",
                    report.toString());
            assertEquals(0, r.exit(), r.err() + r.out());
            JsonNode json =
                    new ObjectMapper().readTree(report.resolve("report.json").toFile());
            assertEquals(
                    DemoRun.faultLayer(), json.at("/root_cause/runtime/layer").asText(), r.out());
            assertEquals("DepthToSpace", json.at("/root_cause/runtime/op").asText());
            assertTrue(json.at("/root_cause/runtime/evidence").asText().contains("cannot run single layers"), r.out());
            assertEquals("exec", json.at("/device/backend").asText());
            assertEquals("stand-in-board", json.at("/device/name").asText());
            int withRuntime = 0;
            for (JsonNode l : json.get("layers")) {
                assertFalse(l.get("entire").isNull(), l.toString());
                if (!l.get("simu_err").isNull() && !l.get("golden_err").isNull()) {
                    withRuntime++;
                }
            }
            assertEquals(json.get("layers").size(), withRuntime, "every layer came back from the vendor runtime");
            assertTrue(Files.exists(report.resolve("report.html"))
                    && Files.exists(report.resolve("dumps/runtime/manifest.json")));
            try (Stream<Path> left = Files.list(work)) {
                assertEquals(0, left.count(), "working folders are removed after each run");
            }
        }
    }
}
