package dev.layerprobe.simulator.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.simulator.ops.OpTraits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The README's op table is the generated one, and the generator covers every registered op and pattern. */
class SupportedOpsTest {
    private static final String BEGIN = "<!-- ops:begin -->";
    private static final String END = "<!-- ops:end -->";

    @Test
    void readmeTableIsCurrent() throws IOException {
        Path readme = OnnxBackendConformanceTest.projectRoot().resolve("README.md");
        Assumptions.assumeTrue(Files.exists(readme), readme + " not found: op table check skipped");
        String text = Files.readString(readme, StandardCharsets.UTF_8);
        int b = text.indexOf(BEGIN);
        int e = text.indexOf(END);
        Assumptions.assumeTrue(
                b >= 0 && e > b, "README.md has no " + BEGIN + " ... " + END + " markers: op table check skipped");
        String between = text.substring(b + BEGIN.length(), e).strip();
        assertEquals(
                SupportedOps.markdownTable().strip(),
                between,
                "README op table is stale: regenerate with `java -cp simulator/target/classes "
                        + "dev.layerprobe.simulator.kernels.SupportedOps` and paste it between the markers");
    }

    @Test
    void everyRegisteredOpAndPatternHasOneRowWithItsNpuForm() {
        String table = SupportedOps.markdownTable();
        String ops = table.substring(0, table.indexOf("\n\n") + 1);
        for (String op : FloatKernels.supportedOps()) {
            assertTrue(ops.contains("\n| " + op + " | "), "no row for " + op);
        }
        assertEquals(FloatKernels.supportedOps().size() + 2, ops.split("\n").length);
        String patterns = table.substring(table.lastIndexOf("\n\n") + 2);
        assertEquals(OpTraits.patterns().size() + 2, patterns.split("\n").length, patterns);
        for (OpTraits.Pattern p : OpTraits.patterns()) {
            assertTrue(patterns.contains("\n| " + p.name() + " | `"), "no row for pattern " + p.name());
        }
        assertTrue(patterns.contains("\n| SiLU | `x * sigmoid(x)` | Sigmoid, Mul | LUT (256 entries) |"), patterns);
        assertTrue(table.contains("\n| Conv | yes | integer kernel |"), table);
        assertTrue(table.contains("\n| Sigmoid | yes | LUT (256 entries) |"), table);
        assertTrue(table.contains("\n| Transpose | yes | data movement |"), table);
        assertTrue(table.contains("\n| Softmax | yes | integer kernel ("), table);
        assertTrue(table.contains("\n| LogSoftmax | yes | CPU fallback |"), table);
        assertTrue(table.contains("\n| NonMaxSuppression | yes | CPU fallback |"), table);
    }
}
