package dev.layerprobe.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.core.LayerProbeException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The agent's options through the standalone agent's command line ({@link AgentMain}); the host's
 * {@code AgentEntryPointsTest} checks that {@code layerprobe agent} gives the same configs and
 * failures. Only failing command lines are executed: one that succeeds would serve until killed.
 */
class AgentOptionsTest {
    private static AgentConfig config(String... args) throws Exception {
        PrintWriter sink = new PrintWriter(new StringWriter());
        CommandLine cl = AgentMain.commandLine(sink, sink);
        cl.parseArgs(args);
        return ((AgentMain) cl.getCommand()).options.config();
    }

    private record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = AgentMain.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void parsesTheBoardOptions(@TempDir Path dir) throws Exception {
        Path profile = Files.writeString(dir.resolve("p.yaml"), """
                name: board-npu
                faults:
                  - kind: depth_to_space_mode_swap
                    layer: up1
                """);

        AgentConfig c = config(
                "--port",
                "7000",
                "--bind",
                "10.0.0.2",
                "--insecure",
                "--profile",
                profile.toString(),
                "--max-model-mb",
                "64",
                "--max-runs",
                "3");

        assertEquals(7000, c.port());
        assertEquals("10.0.0.2", c.bindHost());
        assertTrue(c.insecure());
        assertEquals("board-npu", c.profile().name());
        assertEquals(64L << 20, c.maxModelBytes());
        assertEquals(3, c.maxConcurrentRuns());
        assertEquals(
                "LayerProbe agent listening on 10.0.0.2:7000 (backend sim, profile board-npu, faults: "
                        + "depth_to_space_mode_swap on layer up1; no token, plaintext)",
                AgentServer.banner(c, 7000));
    }

    @Test
    void parsesTheAccessLimitAndStorageOptions() throws Exception {
        AgentConfig c = config(
                "--bind",
                "0.0.0.0",
                "--token-file",
                "/etc/lp/token",
                "--tls-cert",
                "agent.crt",
                "--tls-key",
                "agent.key",
                "--max-message-mb",
                "16",
                "--max-inputs",
                "4",
                "--default-deadline-s",
                "60",
                "--model-dir",
                "models",
                "--data-dir",
                "/var/lib/lp",
                "--keep-runs-mb",
                "100",
                "--keep-runs-hours",
                "2");

        assertEquals(Path.of("/etc/lp/token"), c.tokenFile());
        assertTrue(c.authenticated() && c.tls() && !c.insecure());
        assertEquals(Path.of("agent.crt"), c.tlsCert());
        assertEquals(Path.of("agent.key"), c.tlsKey());
        assertEquals(16L << 20, c.maxInboundMessageBytes());
        assertEquals(4, c.maxInputTensors());
        assertEquals(Duration.ofSeconds(60), c.defaultDeadline());
        assertEquals(Path.of("models"), c.modelDir());
        assertEquals(Path.of("/var/lib/lp/runs"), c.runDir());
        assertEquals(new RunStore.Retention(100L << 20, Duration.ofHours(2)), c.runRetention());
        assertTrue(AgentServer.banner(c, 50051).endsWith("; token required, TLS)"));
    }

    @Test
    void theDefaultsAreTheConfigsWithRunsKeptUnderTheDataDir() throws Exception {
        AgentConfig c = config();

        assertEquals(
                AgentConfig.builder()
                        .runDir(AgentConfig.DEFAULT_DATA_DIR.resolve("runs"))
                        .build(),
                c);
        assertEquals("127.0.0.1", c.bindHost());
        assertTrue(AgentServer.banner(c, 1).endsWith("faults: none; no token, plaintext)"));
        assertNull(c.backendConfig());
    }

    @Test
    void theHelpShowsTheConfigsDefaults() {
        Run r = run("--help");

        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("Usage: layerprobe-agent "), r.out());
        for (String shown : new String[] {
            "TCP port (50051;",
            "address to listen on (127.0.0.1)",
            "what runs the models (sim)",
            "largest model accepted, MiB (512)",
            "largest message accepted, MiB (8)",
            "more are refused (2)",
            "per run request (64)",
            "seconds (1800)",
            "(4096)",
            "deleted (24)",
            "stored in DIR/runs (" + AgentConfig.DEFAULT_DATA_DIR + ")",
            "--verbose",
            "--version"
        }) {
            // picocli may wrap a line within a long path
            String flat = r.out().replaceAll("\\s+", "");
            assertTrue(flat.contains(shown.replaceAll("\\s+", "")), shown + " in\n" + r.out());
        }
    }

    @Test
    void theExecBackendTakesTheAgentsConfigFile() throws Exception {
        AgentConfig c = config("--backend", "exec", "--backend-config", "/etc/layerprobe/agent.yaml");
        assertEquals("exec", c.backend());
        assertEquals(Path.of("/etc/layerprobe/agent.yaml"), c.backendConfig());
    }

    @Test
    void theBulkPortFollowsTheGrpcPortUnlessSetOrOff() throws Exception {
        assertEquals(50052, config().bulkPort());
        assertEquals(7001, config("--port", "7000").bulkPort());
        assertEquals(0, config("--port", "0").bulkPort(), "any free port beside any free port");
        assertEquals(9000, config("--port", "7000", "--bulk-port", "9000").bulkPort());
        assertEquals(AgentConfig.BULK_OFF, config("--bulk-port", "off").bulkPort());
        assertEquals(
                AgentConfig.BULK_OFF,
                AgentConfig.builder().bulkPort(AgentConfig.BULK_OFF).build().bulkPort());

        Run same = run("--port", "7000", "--bulk-port", "7000");
        assertEquals(3, same.exit());
        assertTrue(same.err().contains("--bulk-port must differ from --port"), same.err());
        Run range = run("--bulk-port", "70000");
        assertEquals(3, range.exit());
        assertTrue(range.err().contains("--bulk-port must be in [0, 65535], got 70000"), range.err());
        Run word = run("--bulk-port", "fast");
        assertTrue(word.exit() != 0 && word.err().contains("expected a port number or 'off', got 'fast'"), word.err());
    }

    @Test
    void choosesOnnxRuntimeAndRefusesAnUnknownBackend() throws Exception {
        AgentConfig c = config("--backend", "ort");

        assertEquals("ort", c.backend());
        assertEquals(
                "LayerProbe agent listening on 127.0.0.1:9 (backend ort; no token, plaintext)",
                AgentServer.banner(c, 9));
        Run r = run("--port", "0", "--backend", "rknn");
        assertEquals(3, r.exit());
        assertEquals(
                "layerprobe-agent: unknown backend 'rknn', expected one of [sim, ort, exec]",
                r.err().strip());
    }

    @Test
    void executionProvidersAreCheckedBeforeTheAgentServes() throws Exception {
        assertEquals(
                List.of("xnnpack", "cpu"),
                config("--backend", "ort", "--ep", "xnnpack,cpu").executionProviders());

        Run unknown = run("--port", "0", "--backend", "ort", "--ep", "npu9000");
        assertEquals(3, unknown.exit(), unknown.err());
        assertTrue(
                unknown.err()
                        .startsWith("layerprobe-agent: unknown ONNX Runtime execution provider 'npu9000';"
                                + " available: cpu"),
                unknown.err());
        assertEquals(1, unknown.err().strip().lines().count(), unknown.err());
        Run sim = run("--port", "0", "--ep", "xnnpack");
        assertEquals(3, sim.exit(), sim.err());
        assertEquals(
                "layerprobe-agent: --ep chooses ONNX Runtime execution providers for --backend ort;"
                        + " backend 'sim' runs no ONNX Runtime",
                sim.err().strip());
    }

    @Test
    void malformedCommandLinesAreUsageErrors() {
        Run port = run("--port", "x");
        Run bind = run("--bind");
        Run tls = run("--tls");

        assertEquals(2, port.exit());
        assertTrue(port.err().startsWith("Invalid value for option '--port': 'x' is not an int"), port.err());
        assertEquals(2, bind.exit());
        assertTrue(bind.err().startsWith("Missing required parameter for option '--bind' (ADDR)"), bind.err());
        assertEquals(2, tls.exit());
        assertTrue(tls.err().startsWith("Unknown option: '--tls'"), tls.err());
        assertTrue(tls.err().contains("Possible solutions: --tls-cert, --tls-key"), tls.err());
    }

    @Test
    void valuesOutOfRangeNameTheFlagAndAreBadInput() throws Exception {
        assertEquals(
                "--default-deadline-s must be in [1, 604800], got 0",
                assertThrows(AgentSetupException.class, () -> config("--default-deadline-s", "0"))
                        .getMessage());
        // 4096 MiB does not fit the int of bytes gRPC takes; the check sees the value as given.
        assertEquals(
                "--max-message-mb must be in [1, 1024], got 4096",
                assertThrows(AgentSetupException.class, () -> config("--max-message-mb", "4096"))
                        .getMessage());
        assertEquals(
                LayerProbeException.Code.IO,
                assertThrows(LayerProbeException.class, () -> config("--profile", "/no/such.yaml"))
                        .code());

        Run port = run("--port", "70000");
        assertEquals(3, port.exit());
        assertEquals(
                "layerprobe-agent: --port must be in [0, 65535], got 70000",
                port.err().strip());
        Run runs = run("--max-runs", "0");
        assertEquals(3, runs.exit());
        assertEquals(
                "layerprobe-agent: --max-runs must be in [1, 1024], got 0",
                runs.err().strip());
    }

    @Test
    void aRefusedSetupIsOneLineAndExitsThree(@TempDir Path dir) {
        Run exposed = run("--port", "0", "--bind", "0.0.0.0");
        Run token = run("--port", "0", "--token-file", dir.resolve("missing").toString());

        assertEquals(3, exposed.exit());
        assertTrue(exposed.err().startsWith("layerprobe-agent: refusing to listen on 0.0.0.0"), exposed.err());
        assertEquals(1, exposed.err().strip().lines().count(), exposed.err());
        assertEquals(3, token.exit());
        assertEquals(1, token.err().strip().lines().count(), token.err());
    }

    @Test
    void thePackagedCommandLinesParse() throws Exception {
        // The systemd unit's ExecStart and the launcher's example, as shipped by packaging/make-dist.
        String unit = Files.readString(Path.of("..", "packaging", "systemd", "layerprobe-agent.service"));
        String execStart =
                unit.lines().filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow();
        String[] words = execStart.substring("ExecStart=".length()).trim().split("\\s+", -1);
        assertTrue(words[0].endsWith("/bin/layerprobe-agent"), execStart);

        AgentConfig unitConfig = config(Arrays.copyOfRange(words, 1, words.length));
        assertEquals("ort", unitConfig.backend());
        assertEquals(50051, unitConfig.port());
        assertEquals(Path.of("/var/lib/layerprobe/models"), unitConfig.modelDir());

        String launcher = Files.readString(Path.of("..", "packaging", "bin", "layerprobe-agent"));
        String example = launcher.lines()
                .filter(l -> l.startsWith("#   layerprobe-agent "))
                .findFirst()
                .orElseThrow();
        String[] exampleWords =
                example.substring("#   layerprobe-agent ".length()).trim().split("\\s+", -1);
        assertEquals("ort", config(exampleWords).backend());
    }
}
