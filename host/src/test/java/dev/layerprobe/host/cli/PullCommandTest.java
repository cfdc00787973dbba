package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.agent.access.TestCertificates;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.agent.store.TestRuns;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.dump.DumpReader;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.LayerHeader;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PullCommandTest {
    @TempDir
    Path tmp;

    @Test
    void runsListsAStoredRunAndPullWritesItAsADump() throws Exception {
        try (AgentServer agent =
                AgentServer.netty(AgentConfig.builder().port(0).build()).start()) {
            RunStore.Writer w = agent.runs().begin("model-id", DumpFormat.NATIVE);
            byte[] data = new byte[4 * 6];
            ByteBuffer.wrap(data).putFloat(1.5f);
            w.beginLayer(LayerHeader.newBuilder()
                    .setIndex(0)
                    .setName("out")
                    .setOp("Conv")
                    .setDtype(DataType.FLOAT32)
                    .addShape(2)
                    .addShape(3)
                    .setSizeBytes(data.length)
                    .build());
            w.write(ByteBuffer.wrap(data));
            w.endLayer(Sha256.hexOf(data));
            String id = w.commit().getRunId();
            String device = "127.0.0.1:" + agent.port();

            CliRun runs = CliRun.of("runs", "--device", device);
            assertEquals(0, runs.exit(), runs.err());
            assertTrue(runs.out().startsWith(id) && runs.out().contains("1 layers"), runs.out());

            CliRun pull = CliRun.of(
                    "pull",
                    "--device",
                    device,
                    "--run",
                    id,
                    "-o",
                    tmp.resolve("d").toString());
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

    @Test
    void aBulkPortThatCannotBeReachedMeansGrpcAndOneLineSayingSo() throws Exception {
        try (AgentServer agent =
                AgentServer.netty(AgentConfig.builder().port(0).build()).start()) {
            byte[] data = new byte[100_000];
            new java.util.Random(2).nextBytes(data);
            String id = TestRuns.oneLayer(agent.runs(), data);
            int closed;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
                closed = s.getLocalPort();
            }
            String device = "127.0.0.1:" + agent.port();

            // As through a tunnel that forwards the gRPC port only.
            CliRun unreachable = CliRun.of(
                    "pull",
                    "--device",
                    device,
                    "--run",
                    id,
                    "-o",
                    tmp.resolve("a").toString(),
                    "--bulk-port",
                    Integer.toString(closed));
            CliRun off = CliRun.of(
                    "pull",
                    "--device",
                    device,
                    "--run",
                    id,
                    "-o",
                    tmp.resolve("b").toString(),
                    "--bulk-port",
                    "off");
            CliRun bad = CliRun.of(
                    "pull",
                    "--device",
                    device,
                    "--run",
                    id,
                    "-o",
                    tmp.resolve("c").toString(),
                    "--bulk-port",
                    "fast");

            assertEquals(0, unreachable.exit(), unreachable.err());
            assertTrue(
                    unreachable
                            .out()
                            .contains(
                                    "note: pulled over gRPC: its bulk port 127.0.0.1:" + closed + " cannot be reached"),
                    unreachable.out());
            assertEquals(0, off.exit(), off.err());
            assertTrue(!off.out().contains("note:"), off.out());
            assertEquals(ExitCodes.BAD_INPUT, bad.exit());
            assertTrue(bad.oneLineError() && bad.err().contains("--bulk-port must be a port"), bad.err());
        }
    }

    /** Over the bulk port (the default) and, with it off, over gRPC's PullDump: TLS either way. */
    @ParameterizedTest(name = "bulk port {0}")
    @ValueSource(booleans = {true, false})
    void runsAndPullCarryTheTokenAndTls(boolean bulk) throws Exception {
        TestCertificates certs = TestCertificates.create(tmp);
        Path token = Files.writeString(tmp.resolve("token"), "pull-token-0123456789abcdef\n");
        if (Files.getFileAttributeView(token, PosixFileAttributeView.class) != null) {
            Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        }
        try (AgentServer agent = AgentServer.netty(AgentConfig.builder()
                        .port(0)
                        .tokenFile(token)
                        .tls(certs.cert(), certs.key())
                        .bulkPort(bulk ? 0 : AgentConfig.BULK_OFF)
                        .build())
                .start()) {
            // Several MiB: over the bulk port in 1 MiB pieces encrypted from the file, over PullDump in
            // chunks encrypted from the buffers they were read into; the pull checks the sha256.
            byte[] data = new byte[(3 << 20) + 8];
            new java.util.Random(11).nextBytes(data);
            String id = TestRuns.oneLayer(agent.runs(), data);
            String device = "127.0.0.1:" + agent.port();
            String[] access = {
                "--device",
                device,
                "--token-file",
                token.toString(),
                "--tls-ca",
                certs.cert().toString()
            };

            CliRun runs = CliRun.of(concat(new String[] {"runs"}, access));
            CliRun pull = CliRun.of(concat(
                    new String[] {"pull", "--run", id, "-o", tmp.resolve("d").toString()}, access));
            CliRun noToken = CliRun.of(
                    "runs", "--device", device, "--tls-ca", certs.cert().toString());
            CliRun emptyRun = CliRun.of(concat(new String[] {"pull", "--run", "", "-o", tmp.toString()}, access));

            assertEquals(0, runs.exit(), runs.err());
            assertTrue(runs.out().startsWith(id), runs.out());
            assertEquals(0, pull.exit(), pull.err());
            // A pull that fell back to gRPC for want of the bulk port says so.
            assertTrue(!pull.out().contains("note:"), pull.out());
            try (var files = Files.list(tmp.resolve("d"))) {
                Path npy = files.filter(f -> f.toString().endsWith(".npy"))
                        .findFirst()
                        .orElseThrow();
                byte[] written = Files.readAllBytes(npy);
                assertArrayEquals(
                        data,
                        java.util.Arrays.copyOfRange(written, written.length - data.length, written.length),
                        "the layer's bytes behind the .npy header");
            }
            assertEquals(ExitCodes.DEVICE, noToken.exit());
            assertTrue(noToken.oneLineError() && noToken.err().contains("bearer token"), noToken.err());
            assertEquals(ExitCodes.BAD_INPUT, emptyRun.exit());
            assertTrue(emptyRun.oneLineError() && emptyRun.err().contains("--run needs a run id"), emptyRun.err());
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
