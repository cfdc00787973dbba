package dev.layerprobe.host.analyze;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.cli.LayerProbeCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code layerprobe analyze} end to end with each device fault kind (docs/architecture.md#device-profiles-and-faults) placed on a chosen
 * layer: the runtime root cause is that layer, RunLayer confirms it, and the evidence names the
 * fault's signature in plain words ({@link FaultSignatures}).
 */
class FaultSignaturesTest {
    @TempDir
    static Path tmp;

    static Path calib;

    @BeforeAll
    static void calibrationSubset() throws Exception {
        Path all = SharedData.require("images/calib224");
        calib = Files.createDirectories(tmp.resolve("calib"));
        try (Stream<Path> s = Files.list(all)) {
            for (Path p : s.sorted().limit(4).toList()) {
                Files.copy(p, calib.resolve(p.getFileName()));
            }
        }
    }

    @ParameterizedTest(name = "{0} on {1} {2}")
    @CsvSource({
        "depth_to_space_mode_swap, mobilepose_like.onnx, /head/head.2/DepthToSpace_output_0, DCR reading of a CRD DepthToSpace",
        "drop_bias, mobilepose_like.onnx, /backbone/backbone.1/conv/conv.0/conv.0.2/Clip_output_0, constant offset per channel",
        "zero_point_ignored, mobilepose_like.onnx, /backbone/backbone.2/conv/conv.1/conv.1.2/Clip_output_0, constant offset per channel",
        "requant_shift_off_by_one, mobilepose_like.onnx, /backbone/backbone.2/conv/conv.2/Conv_output_0, values off by a factor of 2",
        "accumulator_int16_wrap, mobilepose_like.onnx, /backbone/backbone.2/conv/conv.2/Conv_output_0, wrap-around at ±32768",
        "input_channel_swap, mobilepose_like.onnx, /backbone/backbone.0/backbone.0.2/Clip_output_0, channels swapped",
        "lut_coarse, espcn_x3.onnx, /body/body.1/Tanh_output_0, at most 16 distinct output codes",
        "drop_bias, mobilenet_v2.onnx, /features/features.1/conv/conv.0/conv.0.2/Clip_output_0, constant offset per channel",
        "zero_point_ignored, mobilenet_v2.onnx, /features/features.2/conv/conv.1/conv.1.2/Clip_output_0, constant offset per channel",
        "requant_shift_off_by_one, mobilenet_v2.onnx, /features/features.3/conv/conv.2/Conv_output_0, values off by a factor of 2",
        "accumulator_int16_wrap, mobilenet_v2.onnx, /features/features.2/conv/conv.2/Conv_output_0, wrap-around at ±32768",
        "input_channel_swap, mobilenet_v2.onnx, /features/features.0/features.0.2/Clip_output_0, channels swapped",
        "softmax_no_max_subtract, tiny_transformer.onnx, /enc/layers.0/self_attn/Softmax_output_0, does not subtract the row maximum",
        "matmul_transpose_b, tiny_transformer.onnx, /enc/layers.0/linear1/MatMul_output_0, MatMul with B read transposed",
        "matmul_transpose_b, tiny_transformer.onnx, /enc/layers.0/self_attn/MatMul_1_output_0, MatMul with B read transposed",
        "rnn_gate_order, gru_kws.onnx, /gru/GRU_output_0, gates read in PyTorch order",
    })
    void evidenceNamesTheSignature(String kind, String model, String layer, String signature) throws Exception {
        Path dir = tmp.resolve(kind);
        Path profile = tmp.resolve(kind + ".yaml");
        Files.writeString(profile, "name: faulty-npu\nfaults:\n  - kind: " + kind + "\n    layer: " + layer + "\n");
        boolean speech = model.equals("gru_kws.onnx"); // MFCC features, not images
        String[] args = {
            "analyze",
            SharedData.require("models/" + model).toString(),
            "--input",
            SharedData.require(speech ? "images/mfcc/mfcc_00.npy" : "images/photos/astronaut.png")
                    .toString(),
            "--calib",
            speech ? SharedData.require("images/mfcc").toString() : calib.toString(),
            "--mean",
            speech ? "0" : "0.485,0.456,0.406",
            "--std",
            speech ? "1" : "0.229,0.224,0.225",
            "--report",
            dir.toString(),
            "--profile",
            profile.toString()
        };
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = LayerProbeCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute(args);
        assertEquals(0, exit, err.toString());
        JsonNode r = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        assertEquals(
                layer,
                r.at("/root_cause/runtime/layer").asText(),
                r.get("root_cause").toString());
        String evidence = r.at("/root_cause/runtime/evidence").asText();
        assertTrue(evidence.contains("confirmed with RunLayer"), evidence);
        assertTrue(evidence.contains(signature), kind + " should read '" + signature + "': " + evidence);
        assertTrue(out.toString().contains(signature), "the diagnosis prints the evidence");
        List<String> others = List.of(
                "reading of a",
                "constant offset per channel",
                "values off by a factor of 2",
                "wrap-around",
                "channels swapped",
                "distinct output codes");
        for (String o : others) {
            if (!signature.contains(o) && !o.contains(signature)) {
                assertTrue(!evidence.contains(o), kind + " should not also read '" + o + "': " + evidence);
            }
        }
    }

    /**
     * mobilenet_v2 has no DepthToSpace and no lookup-table op (and mobilepose_like no lookup-table op):
     * a fault placed where its kind cannot apply is the user's mistake, named before anything runs.
     */
    @ParameterizedTest(name = "{0} on {1} {2}")
    @CsvSource({
        "depth_to_space_mode_swap, mobilenet_v2.onnx, /features/features.3/Add_output_0, layer '/features/features.3/Add_output_0' is Add",
        "lut_coarse, mobilenet_v2.onnx, logits, layer 'logits' is Gemm",
        "lut_coarse, mobilepose_like.onnx, /head/head.3/Relu_output_0, layer '/head/head.3/Relu_output_0' is Relu",
        "matmul_transpose_b, tiny_transformer.onnx, /enc/layers.0/self_attn/Softmax_output_0, layer '/enc/layers.0/self_attn/Softmax_output_0' is Softmax",
    })
    void faultOnALayerOfAnotherOpIsRefused(String kind, String model, String layer, String message) throws Exception {
        Path profile = tmp.resolve(kind + "-" + model + ".yaml");
        Files.writeString(profile, "name: faulty-npu\nfaults:\n  - kind: " + kind + "\n    layer: " + layer + "\n");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = LayerProbeCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute(
                        "analyze",
                        SharedData.require("models/" + model).toString(),
                        "--input",
                        SharedData.require("images/photos/astronaut.png").toString(),
                        "--calib",
                        calib.toString(),
                        "--report",
                        tmp.resolve("refused-" + kind).toString(),
                        "--profile",
                        profile.toString());
        assertTrue(exit != 0, "exit " + exit);
        String e = err.toString().strip();
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.contains("fault " + kind + " applies to [") && e.contains(message), e);
    }
}
