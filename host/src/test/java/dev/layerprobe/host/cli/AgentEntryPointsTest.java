package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentMain;
import dev.layerprobe.agent.AgentOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code layerprobe agent} and the standalone {@code layerprobe-agent} are one command line: the
 * same flags give the same {@link AgentConfig}, and the same failure the same exit code and the
 * same one-line message (after each program's prefix). Only failing command lines are executed:
 * one that succeeds would serve until killed.
 */
class AgentEntryPointsTest {
    private static PrintWriter sink() {
        return new PrintWriter(new StringWriter());
    }

    private static AgentConfig viaLayerprobeAgent(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("agent"));
        all.addAll(List.of(args));
        CommandLine.ParseResult parsed =
                LayerProbeCli.commandLine(sink(), sink()).parseArgs(all.toArray(String[]::new));
        AgentCommand agent = parsed.subcommand().commandSpec().commandLine().getCommand();
        return agent.options.config();
    }

    private static AgentConfig viaStandalone(String... args) throws Exception {
        CommandLine cl = AgentMain.commandLine(sink(), sink());
        cl.parseArgs(args);
        return ((AgentOptions) cl.getCommandSpec().mixins().get("options").userObject()).config();
    }

    private record Failure(int exit, String line) {}

    private static Failure failingLayerprobeAgent(String... args) {
        List<String> all = new ArrayList<>(List.of("agent"));
        all.addAll(List.of(args));
        CliRun r = CliRun.of(all.toArray(String[]::new));
        return new Failure(r.exit(), firstLine(r.err(), "layerprobe: "));
    }

    private static Failure failingStandalone(String... args) {
        StringWriter err = new StringWriter();
        int exit = AgentMain.commandLine(sink(), new PrintWriter(err, true)).execute(args);
        return new Failure(exit, firstLine(err.toString(), "layerprobe-agent: "));
    }

    private static String firstLine(String err, String prefix) {
        String line = err.strip().lines().findFirst().orElse("");
        return line.startsWith(prefix) ? line.substring(prefix.length()) : line;
    }

    @Test
    void theSameFlagsGiveTheSameConfig(@TempDir Path dir) throws Exception {
        Path profile = Files.writeString(dir.resolve("p.yaml"), """
                name: board-npu
                faults:
                  - kind: depth_to_space_mode_swap
                    layer: up1
                """);
        String[][] commandLines = {
            {},
            {
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
                "3"
            },
            {
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
                "60"
            },
            {
                "--backend",
                "exec",
                "--backend-config",
                "agent.yaml",
                "--model-dir",
                "models",
                "--data-dir",
                "data",
                "--keep-runs-mb",
                "10",
                "--keep-runs-hours",
                "2"
            },
            {"--backend", "ort", "--port", "50051", "--model-dir", "/var/lib/layerprobe/models"},
        };
        for (String[] args : commandLines) {
            AgentConfig standalone = viaStandalone(args);
            assertEquals(standalone, viaLayerprobeAgent(args), String.join(" ", args));
        }
        assertEquals(7000, viaStandalone(commandLines[1]).port());
    }

    @Test
    void theSameFailureGivesTheSameExitCodeAndLine(@TempDir Path dir) throws Exception {
        String missing = dir.resolve("missing").toString();
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String busyPort = Integer.toString(busy.getLocalPort());
            Object[][] cases = {
                {2, new String[] {"--port", "x"}},
                {2, new String[] {"--bogus"}},
                {3, new String[] {"--port", "70000"}},
                {3, new String[] {"--max-runs", "0"}},
                {3, new String[] {"--keep-runs-mb", "0"}},
                {3, new String[] {"--port", "0", "--backend", "tensorrt"}},
                {3, new String[] {"--port", "0", "--backend", "exec"}},
                {3, new String[] {"--port", "0", "--bind", "0.0.0.0"}},
                {3, new String[] {"--port", "0", "--token-file", missing}},
                {3, new String[] {"--port", "0", "--tls-cert", missing}},
                {3, new String[] {"--port", "0", "--profile", missing}},
                {1, new String[] {"--port", busyPort}},
            };
            for (Object[] c : cases) {
                String[] args = (String[]) c[1];
                Failure cli = failingLayerprobeAgent(args);
                Failure standalone = failingStandalone(args);
                String what = String.join(" ", args) + ": " + cli + " / " + standalone;
                assertEquals(c[0], cli.exit(), what);
                assertEquals(cli, standalone, what);
                assertTrue(!cli.line().isEmpty() && !cli.line().contains("Exception"), what);
            }
        }
    }

    @Test
    void aPortInUseIsAnIoErrorOnOneLine() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CliRun r = CliRun.of("agent", "--port", Integer.toString(busy.getLocalPort()));
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.oneLineError() && r.err().contains("I/O error: Failed to bind to address"), r.err());
        }
    }
}
