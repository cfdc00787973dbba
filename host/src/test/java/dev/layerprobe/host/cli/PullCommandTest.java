package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.agent.Sha256;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.dump.DumpReader;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.LayerHeader;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PullCommandTest {
    @TempDir
    Path tmp;

    @Test
    void runsListsAStoredRunAndPullWritesItAsADump() throws Exception {
        try (AgentServer agent = AgentServer.netty(AgentConfig.defaults().withBind("127.0.0.1", 0)).start()) {
            RunStore.Writer w = agent.runs().begin("model-id", DumpFormat.NATIVE);
            byte[] data = new byte[4 * 6];
            ByteBuffer.wrap(data).putFloat(1.5f);
            w.beginLayer(LayerHeader.newBuilder().setIndex(0).setName("out").setOp("Conv").setDtype(DataType.FLOAT32)
                    .addShape(2).addShape(3).setSizeBytes(data.length).build());
            w.write(ByteBuffer.wrap(data));
            w.endLayer(Sha256.hexOf(data));
            String id = w.commit().getRunId();
            String device = "127.0.0.1:" + agent.port();

            CliRun runs = CliRun.of("runs", "--device", device);
            assertEquals(0, runs.exit(), runs.err());
            assertTrue(runs.out().startsWith(id) && runs.out().contains("1 layers"), runs.out());

            CliRun pull = CliRun.of("pull", "--device", device, "--run", id, "-o", tmp.resolve("d").toString());
            assertEquals(0, pull.exit(), pull.err());
            assertTrue(pull.out().contains("pulled run " + id + ": 1 layers"), pull.out());
            DumpReader dump = DumpReader.open(tmp.resolve("d"));
            assertEquals("out", dump.layers().get(0).name());
            assertTrue(dump.verify(dump.layers().get(0)));

            CliRun missing = CliRun.of("pull", "--device", device, "--run", "no-such-run", "-o", tmp.toString());
            assertEquals(ExitCodes.DEVICE, missing.exit());
            assertTrue(missing.oneLineError() && missing.err().contains("no stored run 'no-such-run'"), missing.err());
        }
    }

    @Test
    void pullWithoutADeviceIsAOneLineUsageError() {
        CliRun r = CliRun.of("pull", "--run", "x", "-o", tmp.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.oneLineError() && r.err().contains("--device"), r.err());
    }
}
