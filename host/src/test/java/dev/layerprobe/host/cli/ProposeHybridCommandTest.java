package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.host.SharedData;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.quant.HybridSpec;
import dev.layerprobe.simulator.quant.LayerPrecision;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code layerprobe propose-hybrid}. */
class ProposeHybridCommandTest {
    private static final Pattern STEP =
            Pattern.compile("step (\\d+): (promote|demote) (.+) -> cos ([0-9.]+) \\(([+-][0-9.]+)\\)");
    private static final Pattern REACHED = Pattern.compile("target [0-9.]+ reached: cos ([0-9.]+)");

    @TempDir
    Path tmp;

    private Path calibSubset(int n) throws Exception {
        Path all = SharedData.require("images/calib224");
        Path dir = Files.createDirectories(tmp.resolve("calib"));
        try (Stream<Path> s = Files.list(all)) {
            for (Path p : s.sorted().limit(n).toList()) {
                Files.copy(p, dir.resolve(p.getFileName()));
            }
        }
        return dir;
    }

    @Test
    void promotesLayersUntilTheTargetIsReachedAndWritesAValidHybridFile() throws Exception {
        Path model = SharedData.require("models/espcn_x3.onnx");
        Path yaml = tmp.resolve("hybrid.yaml");
        CliRun r = CliRun.of(
                "propose-hybrid",
                model.toString(),
                "--calib",
                calibSubset(4).toString(),
                "--target-cos",
                "0.9999",
                "-o",
                yaml.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(Files.exists(yaml), r.out());
        HybridSpec spec = HybridSpec.load(yaml);
        spec.validate(Simulator.compile(model, CompileOptions.DEFAULT));
        assertFalse(spec.layers().isEmpty(), r.out());
        assertTrue(spec.layers().values().stream().allMatch(p -> p == LayerPrecision.INT16), spec.toString());
        Matcher step = STEP.matcher(r.out());
        int steps = 0;
        while (step.find()) {
            steps++;
            assertEquals(steps, Integer.parseInt(step.group(1)), r.out());
        }
        assertTrue(steps >= 1, r.out());
        for (String layer : spec.layers().keySet()) {
            assertTrue(Files.readString(yaml).contains("\"" + layer + "\": int16"), Files.readString(yaml));
        }
        Matcher reached = REACHED.matcher(r.out());
        assertTrue(reached.find(), r.out());
        assertTrue(Double.parseDouble(reached.group(1)) >= 0.9999, r.out());
    }

    @Test
    void anUnreachableTargetSaysSoAndStillWritesTheBest() throws Exception {
        Path model = SharedData.require("models/espcn_x3.onnx");
        Path yaml = tmp.resolve("best.yaml");
        CliRun r = CliRun.of(
                "propose-hybrid",
                model.toString(),
                "--calib",
                calibSubset(4).toString(),
                "--target-cos",
                "1.0",
                "--max-layers",
                "2",
                "-o",
                yaml.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("target 1 out of reach with at most 2 layers in int16: best cos"), r.out());
        assertTrue(r.out().contains("step 1: promote"), r.out());
        HybridSpec spec = HybridSpec.load(yaml);
        spec.validate(Simulator.compile(model, CompileOptions.DEFAULT));
        assertTrue(spec.layers().size() <= 2, spec.toString());
    }
}
