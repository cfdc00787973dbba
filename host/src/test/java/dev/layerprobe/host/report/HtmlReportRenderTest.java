package dev.layerprobe.host.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * report.html in a real browser: {@code scripts/screenshot-report} renders it with headless
 * Chromium, fails on JavaScript errors, and the chart's series are drawn in the screenshot. Skipped
 * (with the reason) where Chromium is not installed; the script itself installs it on Debian.
 */
class HtmlReportRenderTest {
    private static final Path SCRIPT =
            Path.of("..", "scripts", "screenshot-report").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @BeforeAll
    static void needsChromium() throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "command -v chromium")
                .redirectErrorStream(true)
                .start();
        boolean found = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        Assumptions.assumeTrue(
                found,
                "chromium is not installed: skipping the headless rendering of report.html"
                        + " (apt-get install chromium, or run scripts/screenshot-report once as root)");
    }

    private static Result screenshot(Path html, Path png) throws Exception {
        Process p = new ProcessBuilder(SCRIPT.toString(), html.toString(), png.toString())
                .redirectErrorStream(true)
                .start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium did not finish");
        return new Result(p.exitValue(), log);
    }

    record Result(int exit, String log) {}

    @Test
    void rendersWithoutErrorsAndTheChartIsVisible() throws Exception {
        Path html = dir.resolve("report.html");
        HtmlReport.write(HtmlReportTest.sample(), html);
        Path png = dir.resolve("report.png");
        Result r = screenshot(html, png);
        assertEquals(0, r.exit(), r.log());
        BufferedImage img = ImageIO.read(png.toFile());
        // The per_layer series is the only orange (#ff7f0e) on the page besides its legend swatch.
        int orange = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y);
                int red = (rgb >> 16) & 0xff;
                int green = (rgb >> 8) & 0xff;
                int blue = rgb & 0xff;
                if (Math.abs(red - 0xff) < 24 && Math.abs(green - 0x7f) < 24 && Math.abs(blue - 0x0e) < 24) {
                    orange++;
                }
            }
        }
        assertTrue(orange > 300, "the chart's per_layer series is not visible: " + orange + " orange pixels");
    }

    @Test
    void aPageWithAJavaScriptErrorFailsTheScript() throws Exception {
        Path html = dir.resolve("broken.html");
        Files.writeString(
                html, "<!DOCTYPE html><html><body><p>x</p><script>throw new Error('boom')</script>" + "</body></html>");
        Result r = screenshot(html, dir.resolve("broken.png"));
        assertEquals(1, r.exit(), r.log());
        assertTrue(r.log().contains("JavaScript errors"), r.log());
    }
}
