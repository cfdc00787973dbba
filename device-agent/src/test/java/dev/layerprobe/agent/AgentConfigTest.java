package dev.layerprobe.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class AgentConfigTest {
    private static String refused(AgentConfig.Builder b) {
        return assertThrows(IllegalArgumentException.class, b::build).getMessage();
    }

    @Test
    void theDefaultsAreTheConstants() {
        AgentConfig c = AgentConfig.defaults();

        assertEquals(DeviceProfile.DEFAULT, c.profile());
        assertEquals("sim", c.backend());
        assertEquals("127.0.0.1", c.bindHost());
        assertEquals(50051, c.port());
        assertEquals(512L << 20, c.maxModelBytes());
        assertEquals(2, c.maxConcurrentRuns());
        assertEquals(8L << 20, c.maxInboundMessageBytes());
        assertEquals(Duration.ofMinutes(30), c.defaultDeadline());
        assertEquals(64, c.maxInputTensors());
        assertEquals(RunStore.Retention.DEFAULT, c.runRetention());
        assertFalse(c.insecure() || c.authenticated() || c.tls());
        assertNull(c.runDir());
        assertEquals(c, AgentConfig.builder().build());
    }

    @Test
    void aValueOutOfRangeNamesItsFlagInTheFlagsUnit() {
        assertEquals(
                "--max-model-mb must be in [1, 2047], got 4096",
                refused(AgentConfig.builder().maxModelBytes(4096L << 20)));
        assertEquals(
                "--max-message-mb must be in [1, 1024], got 0",
                refused(AgentConfig.builder().maxInboundMessageBytes(0)));
        assertEquals(
                "--port must be in [0, 65535], got -1",
                refused(AgentConfig.builder().port(-1)));
        assertEquals(
                "--max-runs must be in [1, 1024], got 1025",
                refused(AgentConfig.builder().maxConcurrentRuns(1025)));
        assertEquals(
                "--max-inputs must be in [1, 100000], got 0",
                refused(AgentConfig.builder().maxInputTensors(0)));
        assertEquals(
                "--default-deadline-s must be in [1, 604800], got 604801",
                refused(AgentConfig.builder().defaultDeadline(Duration.ofSeconds(604801))));
        assertEquals(
                "TLS needs both --tls-cert and --tls-key",
                refused(AgentConfig.builder().tls(null, Path.of("agent.key"))));
    }

    @Test
    void aValueSetFromCodeIsShownInBytesOrAsADurationWhenTheFlagsUnitWouldRoundIt() {
        assertEquals(
                "--max-model-mb must be in [1, 2047], got 2147483640 bytes",
                refused(AgentConfig.builder().maxModelBytes(AgentConfig.MAX_MODEL_BYTES_LIMIT + 1)));
        assertEquals(
                "--default-deadline-s must be in [1, 604800], got PT-0.005S",
                refused(AgentConfig.builder().defaultDeadline(Duration.ofMillis(-5))));
        // Below the flags' unit but valid: tests and embedded agents use such limits.
        assertEquals(1000, AgentConfig.builder().maxModelBytes(1000).build().maxModelBytes());
        assertEquals(
                Duration.ofMillis(300),
                AgentConfig.builder()
                        .defaultDeadline(Duration.ofMillis(300))
                        .build()
                        .defaultDeadline());
    }
}
