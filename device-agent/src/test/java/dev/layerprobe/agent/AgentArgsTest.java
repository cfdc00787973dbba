package dev.layerprobe.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.LayerProbeException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentArgsTest {
    @Test
    void parsesTheBoardOptions(@TempDir Path dir) throws Exception {
        Path profile = Files.writeString(dir.resolve("p.yaml"), """
                name: board-npu
                faults:
                  - kind: depth_to_space_mode_swap
                    layer: up1
                """);

        AgentConfig c = AgentArgs.parse(new String[] {"--port", "7000", "--bind", "10.0.0.2", "--insecure",
            "--profile", profile.toString(), "--max-model-mb", "64", "--max-runs", "3"});

        assertEquals(7000, c.port());
        assertEquals("10.0.0.2", c.bindHost());
        assertTrue(c.insecure());
        assertEquals("board-npu", c.profile().name());
        assertEquals(64L << 20, c.maxModelBytes());
        assertEquals(3, c.maxConcurrentRuns());
        assertEquals("LayerProbe agent listening on 10.0.0.2:7000 (backend sim, profile board-npu, faults: "
                + "depth_to_space_mode_swap on layer up1; no token, plaintext)", AgentMain.banner(c, 7000));
    }

    @Test
    void parsesTheAccessAndLimitOptions() throws Exception {
        AgentConfig c = AgentArgs.parse(new String[] {"--bind", "0.0.0.0", "--token-file", "/etc/lp/token",
            "--tls-cert", "agent.crt", "--tls-key", "agent.key", "--max-message-mb", "16", "--max-inputs", "4",
            "--default-deadline-s", "60"});

        assertEquals(Path.of("/etc/lp/token"), c.tokenFile());
        assertTrue(c.authenticated() && c.tls() && !c.insecure());
        assertEquals(Path.of("agent.crt"), c.tlsCert());
        assertEquals(Path.of("agent.key"), c.tlsKey());
        assertEquals(16 << 20, c.maxInboundMessageBytes());
        assertEquals(4, c.maxInputTensors());
        assertEquals(java.time.Duration.ofSeconds(60), c.defaultDeadline());
        assertTrue(AgentMain.banner(c, 50051).endsWith("; token required, TLS)"));
        assertTrue(assertThrows(AgentArgs.UsageException.class,
                () -> AgentArgs.parse(new String[] {"--default-deadline-s", "0"})).getMessage()
                .startsWith("--default-deadline-s needs an integer in [1, "));
    }

    @Test
    void defaultsAreLoopbackAndNoFaults() throws Exception {
        AgentConfig c = AgentArgs.parse(new String[0]);

        assertEquals("127.0.0.1", c.bindHost());
        assertEquals(512L << 20, c.maxModelBytes());
        assertTrue(AgentMain.banner(c, 1).endsWith("faults: none; no token, plaintext)"));
        assertNull(AgentArgs.parse(new String[] {"--help"}));
        assertNull(c.backendConfig());
    }

    @Test
    void theExecBackendTakesTheAgentsConfigFile() throws Exception {
        AgentConfig c = AgentArgs.parse(new String[] {"--backend", "exec", "--backend-config", "/etc/layerprobe/agent.yaml"});
        assertEquals("exec", c.backend());
        assertEquals(Path.of("/etc/layerprobe/agent.yaml"), c.backendConfig());
    }

    @Test
    void choosesOnnxRuntimeAndRefusesAnUnknownBackend() throws Exception {
        AgentConfig c = AgentArgs.parse(new String[] {"--backend", "ort"});

        assertEquals("ort", c.backend());
        assertEquals("LayerProbe agent listening on 127.0.0.1:9 (backend ort; no token, plaintext)",
                AgentMain.banner(c, 9));
        assertEquals("unknown backend 'rknn', expected one of [sim, ort, exec]", assertThrows(AgentArgs.UsageException.class,
                () -> AgentArgs.parse(new String[] {"--backend", "rknn"})).getMessage());
    }

    @Test
    void badArgumentsSayWhatIsWrong() {
        assertEquals("--port needs an integer in [0, 65535], got 'x'",
                assertThrows(AgentArgs.UsageException.class, () -> AgentArgs.parse(new String[] {"--port", "x"}))
                        .getMessage());
        assertEquals("--bind needs a value",
                assertThrows(AgentArgs.UsageException.class, () -> AgentArgs.parse(new String[] {"--bind"}))
                        .getMessage());
        assertTrue(assertThrows(AgentArgs.UsageException.class, () -> AgentArgs.parse(new String[] {"--tls"}))
                .getMessage().startsWith("unknown option '--tls'"));
        assertEquals(LayerProbeException.Code.IO, assertThrows(LayerProbeException.class,
                () -> AgentArgs.parse(new String[] {"--profile", "/no/such.yaml"})).code());
    }
}
