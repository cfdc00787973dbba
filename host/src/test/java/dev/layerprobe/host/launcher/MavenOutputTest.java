package dev.layerprobe.host.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.host.SharedData;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's first build and {@code bench/run} print no ANSI escape sequences into a pipe.
 * Both build through {@code scripts/mvn-quiet}; this runs that script with real Maven (offline, on
 * a one-line pom, so it takes seconds rather than a build) with its output going to a pipe, and
 * checks that both scripts build through it rather than calling Maven themselves.
 */
class MavenOutputTest {
    private static final Path ROOT = SharedData.projectRoot();

    @TempDir
    Path tmp;

    @Test
    void mavenThroughTheWrapperPrintsNoEscapeSequencesIntoAPipe() throws Exception {
        Assumptions.assumeTrue(onPath("mvn"), "mvn is not on the PATH: test skipped");
        Path pom = Files.writeString(
                tmp.resolve("pom.xml"),
                "<project><modelVersion>4.0.0</modelVersion>"
                        + "<groupId>t</groupId><artifactId>t</artifactId><version>1</version><packaging>pom</packaging>"
                        + "</project>\n");
        // Without -q as well: the banner and the build summary are where Maven colours its output.
        for (List<String> flags : List.of(List.of("-q"), List.<String>of())) {
            List<String> cmd =
                    new ArrayList<>(List.of(ROOT.resolve("scripts/mvn-quiet").toString(), "-o", "-f", pom.toString()));
            cmd.addAll(flags);
            cmd.add("validate");
            Run r = run(cmd);
            assertEquals(0, r.exit(), r.output());
            assertFalse(
                    r.output().contains("\u001b"),
                    "escape sequence in: " + r.output().replace("\u001b", "ESC"));
        }
    }

    @Test
    void launcherAndBenchBuildThroughTheWrapper() throws Exception {
        for (String script : List.of("layerprobe", "bench/run")) {
            List<String> mavenLines = Files.readAllLines(ROOT.resolve(script)).stream()
                    .map(String::strip)
                    .filter(l -> !l.startsWith("#") && !l.startsWith("command -v mvn"))
                    .filter(l -> l.matches(".*(^|[\\s(;&|\"/])mvn(-quiet)?[\\s\"].*"))
                    .toList();
            assertFalse(mavenLines.isEmpty(), script + " builds nothing with Maven any more");
            for (String l : mavenLines) {
                assertTrue(l.contains("scripts/mvn-quiet"), script + " calls Maven directly: " + l);
            }
        }
    }

    private record Run(int exit, String output) {}

    private static Run run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "Maven did not finish");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static boolean onPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator, -1)) {
            if (Files.isExecutable(Path.of(dir, exe))) {
                return true;
            }
        }
        return false;
    }
}
