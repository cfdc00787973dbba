package dev.layerprobe.host.analyze;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.cli.AnalyzeCommand;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where an input's values are kept (in memory, with the device and the layers alone running
 * beside the program, or on disk one step after the other) does not change a single number of
 * the report: four inputs of the shared MobilePose-like model on a device with a DepthToSpace fault
 * (so simu_err and the codes differ somewhere), analyzed with no memory budget and with an ample one.
 */
class InputPlacementTest {
    @TempDir
    Path tmp;

    @Test
    void memoryAndDiskGiveTheSameReport() throws Exception {
        Path model = SharedData.require("models/mobilepose_like.onnx");
        Path all = SharedData.require("images/calib224");
        Path inputs = Files.createDirectories(tmp.resolve("inputs"));
        try (Stream<Path> s = Files.list(all)) {
            for (Path p : s.sorted().limit(4).toList()) {
                Files.copy(p, inputs.resolve(p.getFileName()));
            }
        }
        Path fault = tmp.resolve("fault.yaml");
        Files.writeString(
                fault,
                "name: faulty-npu\nfaults:\n  - kind: depth_to_space_mode_swap\n    layer: "
                        + "/head/head.2/DepthToSpace_output_0\n");

        JsonNode onDisk = analyze(model, inputs, fault, tmp.resolve("disk"), 0);
        JsonNode inMemory = analyze(model, inputs, fault, tmp.resolve("memory"), Long.MAX_VALUE);

        assertEquals(
                4,
                onDisk.at("/layers/0/simu_err/inputs").asInt(),
                onDisk.at("/layers/0").toString());
        assertTrue(onDisk.at("/layers").size() > 10);
        assertEquals(onDisk.get("layers"), inMemory.get("layers"));
        assertEquals(onDisk.get("root_cause"), inMemory.get("root_cause"));
        assertEquals(onDisk.get("summary"), inMemory.get("summary"));
        // The first input's dumps are written the same way whatever the budget.
        for (String side : List.of("golden", "simulator", "runtime")) {
            Path a = tmp.resolve("disk/dumps").resolve(side).resolve("manifest.json");
            Path b = tmp.resolve("memory/dumps").resolve(side).resolve("manifest.json");
            assertEquals(Files.readString(a), Files.readString(b), side);
        }
    }

    private static JsonNode analyze(Path model, Path inputs, Path profile, Path report, long budget) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                model.toString(),
                "--input",
                inputs.toString(),
                "--profile",
                profile.toString(),
                "--mean",
                "0.485,0.456,0.406",
                "--std",
                "0.229,0.224,0.225",
                "--report",
                report.toString()));
        AnalysisOptions o = AnalyzeCommand.options(args.toArray(String[]::new));
        int[] done = {0};
        AnalysisResult r = new AnalysisPipeline(o, new PrintWriter(Writer.nullWriter()), i -> done[0]++, budget).run();
        assertEquals(4, done[0]);
        ReportFiles.write(r.report(), o.reportDir());
        return new ObjectMapper().readTree(o.reportDir().resolve("report.json").toFile());
    }
}
