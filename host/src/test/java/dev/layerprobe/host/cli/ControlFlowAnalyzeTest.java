package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.host.golden.ControlFlowVsOrtTest;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code analyze} end to end on a model with If, Loop and Scan, in float32 and quantized. */
class ControlFlowAnalyzeTest {
    @TempDir
    Path tmp;

    private CliRun analyze(String... extra) throws Exception {
        Path model = tmp.resolve("cflow.onnx");
        Files.write(model, ControlFlowVsOrtTest.model().toByteArray());
        Path image = tmp.resolve("image.png");
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                img.setRGB(x, y, (x * 9) << 16 | (y * 9) << 8 | ((x * y) & 0xFF));
            }
        }
        ImageIO.write(img, "png", image.toFile());
        String[] base = {
            "analyze",
            model.toString(),
            "--input",
            image.toString(),
            "--report",
            tmp.resolve("r").toString()
        };
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CliRun.of(args);
    }

    @Test
    void float32RunListsTheBranchLayers() throws Exception {
        CliRun r = analyze("--dtype", "float32");
        System.out.println(r.out());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("then_relu") && r.out().contains("branch_out"), r.out());
    }

    @Test
    void quantizedRunComparesTheBranchLayersWithTheDevice() throws Exception {
        CliRun r = analyze();
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("branch_out"), r.out());
        // The image's sum is positive: the then branch's Conv+Relu ran, on the NPU, bit-exact on the device.
        String then = r.out()
                .lines()
                .filter(l -> l.startsWith("then_relu "))
                .findFirst()
                .orElseThrow();
        assertTrue(then.contains("Conv+Relu") && then.trim().endsWith("1.00000"), then);
        // Calibrated on the input alone, which never takes the else branch: that branch stays float.
        assertTrue(r.out().contains("note: the else_branch of branch_if ran on no calibration input"), r.out());
    }

    /** A device fault inside the branch taken is localized to that branch layer, as anywhere else. */
    @Test
    void aRuntimeFaultInABranchIsLocalizedThere() throws Exception {
        Path profile = tmp.resolve("faulty.yaml");
        Files.writeString(profile, "name: faulty\nfaults:\n  - kind: requant_shift_off_by_one\n    layer: then_relu\n");
        CliRun r = analyze("--profile", profile.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("Verdict: runtime fault at then_relu "), r.out());
    }
}
