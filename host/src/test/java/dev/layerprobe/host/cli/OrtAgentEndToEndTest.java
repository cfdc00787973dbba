package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.OrtInt8;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.proto.v1.BackendInfo;
import dev.layerprobe.proto.v1.DeviceInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code layerprobe analyze --device} against an agent running the ort backend on a real loopback
 * socket, on the shared mobilenet_v2: the device is ONNX Runtime, so a QDQ model must match the
 * simulator in ONNX Runtime's requantization mode code for code, and a float model must match the
 * golden run.
 */
class OrtAgentEndToEndTest {
    @TempDir
    static Path tmp;

    static AgentServer agent;

    @BeforeAll
    static void startAgent() throws Exception {
        agent = AgentServer.netty(AgentConfig.builder().backend("ort").port(0).build())
                .start();
    }

    @AfterAll
    static void stopAgent() {
        if (agent != null) {
            agent.close();
        }
    }

    private static String device() {
        return "127.0.0.1:" + agent.port();
    }

    private static String[] args(Path report, String... extra) {
        Path model = SharedData.require("models/mobilenet_v2.onnx");
        Path image = SharedData.require("images/photos/astronaut.png");
        List<String> a = new ArrayList<>(List.of(
                "analyze",
                model.toString(),
                "--input",
                image.toString(),
                "--mean",
                "0.485,0.456,0.406",
                "--std",
                "0.229,0.224,0.225",
                "--device",
                device(),
                "--report",
                report.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private static JsonNode report(Path dir) throws Exception {
        return new ObjectMapper().readTree(dir.resolve("report.json").toFile());
    }

    @Test
    void getInfoNamesOnnxRuntimeWithoutRunLayerAndListsTheOtherBackends() throws Exception {
        try (AgentClient client = AgentClient.connect(device())) {
            DeviceInfo info = client.info();

            assertEquals("ort", info.getBackend());
            assertEquals(List.of("run", "native_dumps"), info.getCapabilitiesList());
            assertTrue(
                    info.getVersionsMap().containsKey("onnxruntime"),
                    info.getVersionsMap().toString());
            List<String> active = info.getBackendsList().stream()
                    .filter(BackendInfo::getActive)
                    .map(BackendInfo::getName)
                    .toList();
            assertEquals(List.of("ort"), active);
            assertTrue(
                    info.getBackendsList().stream()
                            .anyMatch(b -> b.getName().equals("sim")
                                    && b.getCapabilitiesList().contains("run_layer")),
                    info.getBackendsList().toString());
        }
    }

    @Test
    void runLayerIsRefusedAsUnimplementedNamingTheBackend() throws Exception {
        GraphProto graph = GraphProto.newBuilder()
                .setName("relu")
                .addNode(NodeProto.newBuilder().setOpType("Relu").addInput("x").addOutput("y"))
                .addInput(OnnxGraphs.valueInfoProto("x", DType.FLOAT32, new int[] {1, 4}))
                .addOutput(OnnxGraphs.valueInfoProto("y", DType.FLOAT32, new int[] {1, 4}))
                .build();
        byte[] model = ModelProto.newBuilder()
                .setIrVersion(8)
                .setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
                .build()
                .toByteArray();
        try (AgentClient client = AgentClient.connect(device())) {
            String id = client.upload(model, "relu.onnx");

            AgentException e = assertThrows(
                    AgentException.class,
                    () -> client.runLayer(id, "y", Map.of("x", Tensor.ofFloats(new int[] {1, 4}, new float[4]))));
            assertTrue(e.getMessage().contains("backend 'ort' cannot run single layers"), e.getMessage());
        }
    }

    @Test
    void aQdqModelOnOnnxRuntimeMatchesTheSimulatorInItsRequantModeOnEveryLayer() throws Exception {
        OrtInt8.assumeExactKernels();
        Path profile = Files.writeString(tmp.resolve("ort-like.yaml"), "name: ort-like\nrequant: float\n");
        Path dir = tmp.resolve("qdq");

        CliRun run = CliRun.of(args(dir, "--profile", profile.toString()));

        assertEquals(0, run.exit(), run.err());
        JsonNode r = report(dir);
        assertEquals("ort", r.at("/device/backend").asText());
        assertTrue(r.at("/root_cause/runtime").isNull(), "no runtime root cause: " + r.get("root_cause"));
        int layers = 0;
        for (JsonNode l : r.get("layers")) {
            assertEquals(
                    1.0,
                    l.at("/simu_err/bit_exact").asDouble(),
                    "codes of " + l.get("name") + ": " + l.get("simu_err"));
            layers++;
        }
        assertEquals(65, layers, "every layer of the simulator has a device value");
        assertTrue(run.out().contains("the device matches the simulator on every layer"), run.out());
        assertTrue(Files.exists(dir.resolve("dumps/runtime/manifest.json")));
    }

    @Test
    void aFloatModelOnOnnxRuntimeMatchesTheGoldenRun() throws Exception {
        Path dir = tmp.resolve("float");

        CliRun run = CliRun.of(args(dir, "--dtype", "float32"));

        assertEquals(0, run.exit(), run.err());
        JsonNode r = report(dir);
        for (JsonNode l : r.get("layers")) {
            assertTrue(
                    l.at("/golden_err/cos").asDouble() >= 0.99999,
                    "golden_err of " + l.get("name") + ": " + l.get("golden_err"));
        }
        JsonNode fault = r.at("/root_cause/runtime");
        // ONNX Runtime's float kernels and the simulator's round differently at the 1e-5 level; should
        // that flag a layer, the report must say that RunLayer could not confirm it.
        assertTrue(
                fault.isNull()
                        || (fault.get("evidence").asText().contains("cannot run single layers")
                                && run.out().contains("whose float kernels round differently")),
                fault + "\n" + run.out());
    }
}
