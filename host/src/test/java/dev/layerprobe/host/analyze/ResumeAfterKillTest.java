package dev.layerprobe.host.analyze;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.host.cli.LayerProbeCli;
import dev.layerprobe.host.dataset.SmallClassifier;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An {@code analyze} over 64 inputs in a child JVM, killed (SIGKILL) once its state holds about half
 * of them, then continued with {@code --resume}: the report is byte for byte the one of a run that
 * was never interrupted, and the state holds every input exactly once.
 */
class ResumeAfterKillTest {
    private static final int INPUTS = 64;

    @TempDir
    Path tmp;

    @Test
    void aKilledRunResumesToTheReportOfAnUninterruptedOne() throws Exception {
        Path model = SmallClassifier.write(tmp.resolve("small.onnx"), 3);
        Path inputs = SmallClassifier.inputs(tmp.resolve("inputs"), INPUTS, 5);
        Path whole = tmp.resolve("whole");
        Path killed = tmp.resolve("killed");
        assertEquals(0, cli("analyze", model.toString(), "--input", inputs.toString(), "--report", whole.toString()));

        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "--add-modules",
                "jdk.incubator.vector",
                "-cp",
                System.getProperty("java.class.path"),
                LayerProbeCli.class.getName(),
                "analyze",
                model.toString(),
                "--input",
                inputs.toString(),
                "--report",
                killed.toString()));
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve("child.log").toFile())
                .start();
        int seen = 0;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (p.isAlive() && System.nanoTime() < deadline) {
            seen = Files.exists(killed.resolve("state"))
                    ? RunState.journaled(killed).size()
                    : 0;
            if (seen >= INPUTS / 2) {
                break;
            }
            Thread.sleep(2);
        }
        assertTrue(
                p.isAlive(),
                "the child finished before it could be killed: " + Files.readString(tmp.resolve("child.log")));
        p.destroyForcibly(); // SIGKILL: no shutdown hook, no finally
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        int before = RunState.journaled(killed).size();
        assertTrue(before >= INPUTS / 2 && before < INPUTS, "inputs in the state when killed: " + before);
        assertTrue(!Files.exists(killed.resolve("report.json")), "the killed run wrote no report");

        StringWriter out = new StringWriter();
        assertEquals(
                0,
                LayerProbeCli.commandLine(new PrintWriter(out, true), new PrintWriter(out, true))
                        .execute(
                                "analyze",
                                model.toString(),
                                "--input",
                                inputs.toString(),
                                "--report",
                                killed.toString(),
                                "--resume"),
                out.toString());
        assertTrue(
                out.toString().contains("Resuming: " + before + " inputs done, " + (INPUTS - before) + " to go"),
                out.toString());

        List<Integer> journaled = RunState.journaled(killed);
        assertEquals(INPUTS, journaled.size(), "inputs recorded: " + journaled);
        assertEquals(INPUTS, new HashSet<>(journaled).size(), "an input was computed twice: " + journaled);
        assertArrayEquals(
                Files.readAllBytes(whole.resolve("report.json")),
                Files.readAllBytes(killed.resolve("report.json")),
                "the resumed report differs from the uninterrupted one");
        assertArrayEquals(
                Files.readAllBytes(whole.resolve("inputs.csv")), Files.readAllBytes(killed.resolve("inputs.csv")));
    }

    private static int cli(String... args) {
        StringWriter out = new StringWriter();
        return LayerProbeCli.commandLine(new PrintWriter(out, true), new PrintWriter(out, true))
                .execute(args);
    }
}
