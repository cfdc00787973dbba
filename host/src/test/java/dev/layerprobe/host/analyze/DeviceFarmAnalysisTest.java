package dev.layerprobe.host.analyze;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.host.cli.AnalyzeCommand;
import dev.layerprobe.host.demo.DemoModel;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which agent of a farm ran which input does not change a single number of the report: 64 inputs of
 * the demo network analyzed on one agent and on three (real loopback sockets), and on three of which
 * one is shut down at once after about half the inputs, its inputs in flight then running again on
 * the others.
 */
class DeviceFarmAnalysisTest {
    private static final int INPUTS = 64;

    @TempDir
    static Path tmp;

    private static Path model;
    private static Path inputs;
    private static Path calib;
    /** The one-agent report, without its record of devices. */
    private static JsonNode reference;

    @BeforeAll
    static void modelInputsAndReference() throws Exception {
        model = tmp.resolve("pose.onnx");
        Files.write(model, DemoModel.build(2024).toByteArray());
        inputs = Files.createDirectories(tmp.resolve("inputs"));
        calib = Files.createDirectories(tmp.resolve("calib"));
        Random r = new Random(7);
        int[] shape = {1, 3, DemoModel.SIZE, DemoModel.SIZE};
        for (int i = 0; i < INPUTS; i++) {
            float[] v = new float[3 * DemoModel.SIZE * DemoModel.SIZE];
            for (int j = 0; j < v.length; j++) {
                v[j] = (float) r.nextGaussian();
            }
            Path p = inputs.resolve(String.format(Locale.ROOT, "in%02d.npy", i));
            Npy.write(p, shape, v);
            if (i < 4) {
                Files.copy(p, calib.resolve(p.getFileName()));
            }
        }
        try (AgentServer a = agent()) {
            JsonNode one = analyze("one", i -> {}, a);
            assertEquals(INPUTS, one.get("inputs").size());
            assertEquals(Set.of("127.0.0.1:" + a.port()), devices(one));
            reference = withoutDevices(one);
        }
        assertEquals(
                INPUTS,
                reference.at("/layers/0/simu_err/inputs").asInt(),
                reference.at("/layers/0").toString());
    }

    @Test
    void threeAgentsGiveTheReportOfOne() throws Exception {
        try (AgentServer a = agent();
                AgentServer b = agent();
                AgentServer c = agent()) {
            JsonNode three = analyze("three", i -> {}, a, b, c);
            assertEquals(
                    Set.of("127.0.0.1:" + a.port(), "127.0.0.1:" + b.port(), "127.0.0.1:" + c.port()),
                    devices(three),
                    "inputs spread over every agent");
            assertEquals(reference, withoutDevices(three));
        }
    }

    @Test
    void anAgentShutDownHalfwayLeavesTheReportAsItWas() throws Exception {
        try (AgentServer a = agent();
                AgentServer b = agent();
                AgentServer c = agent()) {
            String lost = "127.0.0.1:" + c.port();
            StringWriter out = new StringWriter();
            JsonNode killed = analyze(
                    "killed",
                    new PrintWriter(out, true),
                    i -> {
                        if (i == INPUTS / 2) {
                            c.shutdownNow();
                        }
                    },
                    a,
                    b,
                    c);
            JsonNode ran = killed.get("inputs");
            boolean before = false;
            for (JsonNode in : ran) {
                int index = in.get("index").asInt();
                before |= in.get("agent").asText().equals(lost) && index < INPUTS / 2;
                // Inputs past those in flight when it stopped (six: three agents, two runs each) never ran there.
                assertFalse(
                        index > INPUTS / 2 + 6 && in.get("agent").asText().equals(lost),
                        "input " + index + " ran on the stopped agent");
            }
            assertTrue(before, "the stopped agent ran inputs before it stopped: " + ran);
            // It was stopped under runs in flight, which ran again elsewhere.
            assertTrue(out.toString().contains("device " + lost + " is lost ("), out.toString());
            assertEquals(reference, withoutDevices(killed));
        }
    }

    private static AgentServer agent() throws Exception {
        return AgentServer.netty(AgentConfig.builder().port(0).build()).start();
    }

    private static JsonNode analyze(String name, IntConsumer inputDone, AgentServer... agents) throws Exception {
        return analyze(name, new PrintWriter(Writer.nullWriter()), inputDone, agents);
    }

    private static JsonNode analyze(String name, PrintWriter out, IntConsumer inputDone, AgentServer... agents)
            throws Exception {
        Path report = tmp.resolve(name);
        List<String> args = new ArrayList<>(List.of(
                model.toString(),
                "--input",
                inputs.toString(),
                "--calib",
                calib.toString(),
                "--report",
                report.toString()));
        for (AgentServer a : agents) {
            args.add("--device");
            args.add("127.0.0.1:" + a.port());
        }
        AnalysisOptions o = AnalyzeCommand.options(args.toArray(String[]::new));
        int[] done = {0};
        AnalysisResult r = new AnalysisPipeline(
                        o,
                        out,
                        i -> {
                            done[0]++;
                            inputDone.accept(i);
                        },
                        Long.MAX_VALUE)
                .run();
        assertEquals(INPUTS, done[0]);
        ReportFiles.write(r.report(), o.reportDir());
        return new ObjectMapper().readTree(o.reportDir().resolve("report.json").toFile());
    }

    private static Set<String> devices(JsonNode report) {
        Set<String> out = new HashSet<>();
        for (JsonNode in : report.get("inputs")) {
            out.add(in.get("agent").asText());
        }
        return out;
    }

    private static JsonNode withoutDevices(JsonNode report) {
        ObjectNode copy = report.deepCopy();
        // The inputs and the task's worst inputs name the agent that ran each.
        for (JsonNode in : copy.get("inputs")) {
            ((ObjectNode) in).remove("agent");
        }
        for (JsonNode in : copy.at("/task/worst")) {
            ((ObjectNode) in).remove("agent");
        }
        return copy;
    }
}
