package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code layerprobe agent} refuses a backend it cannot set up with a one-line reason. */
class AgentCommandTest {
    @Test
    void theExecBackendNeedsTheAgentsConfigFile() {
        CliRun r = CliRun.of("agent", "--port", "0", "--backend", "exec");
        assertEquals(3, r.exit(), r.err());
        assertTrue(r.oneLineError() && r.err().contains("--backend-config"), r.err());
    }

    @Test
    void anUnknownBackendListsTheKnownOnes() {
        CliRun r = CliRun.of("agent", "--port", "0", "--backend", "tensorrt");
        assertEquals(3, r.exit(), r.err());
        assertTrue(r.oneLineError() && r.err().contains("sim") && r.err().contains("exec"), r.err());
    }
}
