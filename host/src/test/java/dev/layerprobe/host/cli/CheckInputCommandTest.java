package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.analyze.PreprocessingCheck;
import dev.layerprobe.host.input.ImageLoader;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Simulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code layerprobe check-input} end to end on MobileNetV2 with the embedded emulated device: a
 * device whose first layer swaps channels, a device fed NHWC data as NCHW, and a clean device.
 */
class CheckInputCommandTest {
    static final String MEAN = "0.485,0.456,0.406";
    static final String STD = "0.229,0.224,0.225";

    @TempDir
    Path tmp;

    static String[] args(String... extra) {
        Path model = SharedData.require("models/mobilenet_v2.onnx");
        Path image = SharedData.require("images/photos/astronaut.png");
        List<String> a = new ArrayList<>(
                List.of("check-input", model.toString(), "--input", image.toString(), "--mean", MEAN, "--std", STD));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    static String verdict(CliRun r) {
        return r.out()
                .lines()
                .filter(l -> l.startsWith("Verdict: "))
                .findFirst()
                .orElse("(no verdict)\n" + r.out());
    }

    @Test
    void channelSwapFaultOnFirstLayerIsNamed() throws Exception {
        Path model = SharedData.require("models/mobilenet_v2.onnx");
        String first =
                Simulator.compile(model, CompileOptions.DEFAULT).layers().get(0).name();
        Path profile = tmp.resolve("swap.yaml");
        Files.writeString(
                profile, "name: swapping-npu\nfaults:\n  - kind: input_channel_swap\n    layer: " + first + "\n");
        CliRun r = CliRun.of(args("--profile", profile.toString()));
        assertEquals(0, r.exit(), r.err());
        assertTrue(
                verdict(r).contains("matches golden run on the input with channels swapped (BGR): cos 0.99"), r.out());
    }

    @Test
    void nhwcDataReadAsNchwIsNamed() throws Exception {
        Path image = SharedData.require("images/photos/astronaut.png");
        InputSpec imagenet = InputSpec.IMAGENET;
        var nchw = ImageLoader.load(image, 224, 224, imagenet);
        Path npy = tmp.resolve("astronaut_nhwc_as_nchw.npy");
        Npy.write(npy, PreprocessingCheck.nhwcAsNchw(nchw));
        CliRun r = CliRun.of(args("--device-input", npy.toString()));
        assertEquals(0, r.exit(), r.err());
        String v = verdict(r);
        assertTrue(v.contains("matches golden run on the input with NHWC layout"), r.out());
        assertTrue(!v.contains("channels swapped"), r.out());
    }

    @Test
    void cleanDeviceMatchesAsGiven() {
        CliRun r = CliRun.of(args());
        assertEquals(0, r.exit(), r.err());
        assertTrue(verdict(r).contains("matches golden run on the input as given: cos 0.99"), r.out());
        assertTrue(r.out().contains("channels swapped (BGR)"), "the table lists the other candidates: " + r.out());
    }
}
