package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.host.quantize.QuantizationOptions;
import dev.layerprobe.host.quantize.Quantizer;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.ops.OpTraits;
import dev.layerprobe.simulator.profile.FaultKind;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bisection end to end: {@code analyze} against the embedded device emulating a runtime that
 * returns only the model's outputs ({@code dumps: outputs_only}), with one fault at a time placed
 * on layers of mobilepose_like (its first layer, the depthwise and the projection convolution
 * inside the branch of a residual block, the block's Add, the head's PixelShuffle), of several fault
 * kinds. Each time the analysis must name that layer as the runtime root cause, confirmed on the
 * device, within ⌈log2(layers)⌉ + 3 device runs, and list its probes in report.json.
 */
class BisectAnalyzeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void findsAFaultOnAnyLayerFromTheModelsOutputsAlone() throws Exception {
        Path model = SharedData.require("models/mobilepose_like.onnx");
        Path calib = SharedData.require("images/calib224");
        Path image;
        try (Stream<Path> l = Files.list(calib)) {
            image = l.sorted().findFirst().orElseThrow();
        }
        NpuProgram fp = Simulator.compile(model, CompileOptions.DEFAULT);
        Quantizer quantizer = new Quantizer(new PrintWriter(new StringWriter()));
        QuantizationOptions q = QuantizationOptions.DEFAULT;
        ModelProto qdq = quantizer.quantize(
                fp,
                quantizer.calibrate(
                        fp, OnnxGraphs.readModel(model).toByteArray(), List.of(image), InputSpec.IMAGENET, q),
                q);
        Path qdqFile = tmp.resolve("mobilepose_like.qdq.onnx");
        Files.write(qdqFile, qdq.toByteArray());
        NpuProgram sim = Simulator.compile(qdq, "mobilepose_like", CompileOptions.DEFAULT);
        List<Layer> layers = sim.layers();
        int bound = 32 - Integer.numberOfLeadingZeros(layers.size() - 1) + 3;

        Map<String, FaultKind> cases = new LinkedHashMap<>();
        cases.put(layers.get(0).name(), FaultKind.DROP_BIAS);
        Layer add = layers.stream()
                .filter(l -> l.op().equals("Add"))
                .skip(1)
                .findFirst()
                .orElseThrow();
        Layer projection = producerOf(layers, add.inputs(), add.index());
        Layer depthwise = producerOf(layers, projection.inputs(), projection.index());
        assertTrue(add.inputs().stream().noneMatch(depthwise.outputs()::contains), "inside the branch");
        cases.put(depthwise.name(), FaultKind.INPUT_CHANNEL_SWAP);
        cases.put(projection.name(), FaultKind.REQUANT_SHIFT_OFF_BY_ONE);
        cases.put(add.name(), FaultKind.INPUT_CHANNEL_SWAP);
        Layer pixelShuffle = layers.stream()
                .filter(l -> l.op().equals("DepthToSpace"))
                .findFirst()
                .orElseThrow();
        cases.put(pixelShuffle.name(), FaultKind.DEPTH_TO_SPACE_MODE_SWAP);

        List<String> measured = new ArrayList<>();
        for (var c : cases.entrySet()) {
            Layer target = sim.layer(c.getKey()).orElseThrow();
            assertTrue(OpTraits.faultApplies(c.getValue(), target.op()), c.toString());
            Path profile = tmp.resolve("closed-" + target.index() + ".yaml");
            Files.writeString(
                    profile,
                    "name: closed-npu\ndumps: outputs_only\nfaults:\n  - kind: "
                            + c.getValue().yamlName() + "\n    layer: \"" + target.name() + "\"\n");
            Path report = tmp.resolve("report-" + target.index());

            CliRun r = CliRun.of(
                    "analyze",
                    model.toString(),
                    "--quantized",
                    qdqFile.toString(),
                    "--input",
                    image.toString(),
                    "--profile",
                    profile.toString(),
                    "--report",
                    report.toString());

            assertEquals(0, r.exit(), r.err() + r.out());
            JsonNode json = JSON.readTree(report.resolve("report.json").toFile());
            JsonNode runtime = json.path("root_cause").path("runtime");
            String what = c.getValue().yamlName() + " on " + target.name() + " (" + target.op() + ")";
            assertEquals(target.name(), runtime.path("layer").asText(), what + "\n" + r.out());
            assertTrue(runtime.path("evidence").asText().contains("confirmed with RunLayer"), what + ": " + runtime);
            JsonNode bisect = json.path("bisect");
            assertEquals(
                    "the device reports only the model's outputs",
                    bisect.path("reason").asText());
            assertEquals(target.name(), bisect.path("layer").asText());
            int runs = bisect.path("device_runs").asInt();
            assertTrue(runs <= bound, what + ": " + runs + " device runs, bound " + bound);
            assertTrue(runs <= bisect.path("max_runs").asInt(), what);
            JsonNode probes = bisect.path("probes");
            assertFalse(probes.isEmpty());
            assertEquals("whole model", probes.get(0).path("source").asText());
            assertEquals("departs", probes.get(0).path("verdict").asText());
            long prefixRuns = 0;
            for (JsonNode p : probes) {
                assertNotNull(p.path("after").asText(null));
                assertTrue(p.path("cos").isNumber(), p.toString());
                prefixRuns += p.path("source").asText().equals("prefix model") ? 1 : 0;
            }
            assertEquals(1 + prefixRuns + 1, runs, "the whole model, each prefix and RunLayer");
            assertTrue(r.out().contains("Bisection (the device reports only the model's outputs)"), r.out());
            measured.add(what + ": " + runs + " device runs");
        }
        // --bisect on a device that dumps every layer: the same search, the cut layers picked from its dumps.
        Path dumping = tmp.resolve("dumping.yaml");
        Files.writeString(
                dumping,
                "name: open-npu\nfaults:\n  - kind: depth_to_space_mode_swap\n    layer: \"" + pixelShuffle.name()
                        + "\"\n");
        CliRun r = CliRun.of(
                "analyze",
                model.toString(),
                "--quantized",
                qdqFile.toString(),
                "--input",
                image.toString(),
                "--profile",
                dumping.toString(),
                "--bisect",
                "--report",
                tmp.resolve("report-forced").toString());
        assertEquals(0, r.exit(), r.err() + r.out());
        JsonNode json = JSON.readTree(tmp.resolve("report-forced/report.json").toFile());
        assertEquals(pixelShuffle.name(), json.at("/root_cause/runtime/layer").asText(), r.out());
        assertEquals("--bisect", json.at("/bisect/reason").asText());
        assertTrue(json.at("/bisect/device_runs").asInt() <= bound);
        measured.add("--bisect, depth_to_space_mode_swap on a dumping device: "
                + json.at("/bisect/device_runs").asInt() + " device runs");
        System.out.println("bisection on mobilepose_like (" + layers.size() + " layers, bound " + bound + "):\n  "
                + String.join("\n  ", measured));
    }

    /** The layer before {@code before} that computes one of {@code inputs}, the latest one. */
    private static Layer producerOf(List<Layer> layers, List<String> inputs, int before) {
        Layer found = null;
        for (Layer l : layers) {
            if (l.index() < before && l.outputs().stream().anyMatch(inputs::contains)) {
                found = l;
            }
        }
        return found;
    }
}
