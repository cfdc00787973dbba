package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.simulator.kernels.SupportedOps;
import org.junit.jupiter.api.Test;

/** {@code layerprobe ops}: the generated op table, fused patterns included, as the README carries it. */
class OpsCommandTest {
    @Test
    void printsTheOpTableAndTheFusedPatterns() {
        CliRun r = CliRun.of("ops");

        assertEquals(0, r.exit(), r.err());
        assertEquals(SupportedOps.markdownTable(), r.out());
        assertTrue(r.out().startsWith("| op | float kernel | int8 on NPU |\n"), r.out());
        assertTrue(r.out().contains("\n| Conv | yes | integer kernel |\n"), r.out());
        assertTrue(r.out().contains("\n| SiLU | `x * sigmoid(x)` | Sigmoid, Mul | LUT (256 entries) |\n"), r.out());
    }
}
