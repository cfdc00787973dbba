package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.host.demo.DemoModel;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code analyze} with several {@code --device}s on the command line. */
class FarmAnalyzeCommandTest {
    @TempDir
    Path tmp;

    @Test
    void agentsWithAnotherProfileStopTheRunNamingTheOddOne() throws Exception {
        Path model = tmp.resolve("pose.onnx");
        Files.write(model, DemoModel.build(3).toByteArray());
        Path input = tmp.resolve("in.npy");
        Npy.write(
                input,
                new int[] {1, 3, DemoModel.SIZE, DemoModel.SIZE},
                new float[3 * DemoModel.SIZE * DemoModel.SIZE]);
        Path other = Files.writeString(tmp.resolve("other.yaml"), "name: other-npu\n");
        try (AgentServer a =
                        AgentServer.netty(AgentConfig.builder().port(0).build()).start();
                AgentServer odd = AgentServer.netty(AgentConfig.builder()
                                .profile(DeviceProfile.load(other))
                                .port(0)
                                .build())
                        .start()) {
            Path report = tmp.resolve("report");
            CliRun run = CliRun.of(
                    "analyze",
                    model.toString(),
                    "--input",
                    input.toString(),
                    "--report",
                    report.toString(),
                    "--device",
                    "127.0.0.1:" + a.port(),
                    "--device",
                    "127.0.0.1:" + odd.port());
            assertEquals(ExitCodes.DEVICE, run.exit(), run.err());
            assertTrue(run.oneLineError(), run.err());
            assertTrue(
                    run.err()
                            .contains("device 127.0.0.1:" + odd.port() + " runs backend 'sim' with profile 'other-npu',"
                                    + " unlike 127.0.0.1:" + a.port()),
                    run.err());
            assertFalse(Files.exists(report.resolve("report.json")));
        }
    }

    @Test
    void aCommandForOneDeviceRefusesTwo() {
        CliRun run = CliRun.of("info", "--device", "127.0.0.1:1", "--device", "127.0.0.1:2");
        assertEquals(ExitCodes.BAD_INPUT, run.exit(), run.err());
        assertTrue(run.err().contains("this command talks to one device, --device was given 2 times"), run.err());
    }
}
