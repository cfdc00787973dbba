package dev.layerprobe.host.pull;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.agent.NettyDefaults;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.dump.DumpManifest;
import dev.layerprobe.dump.DumpReader;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.QuantInfo;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Pulling a stored run over real loopback sockets, cut at random points by a proxy. */
class RunPullTest {
    private static final AgentClient.Options SHORT =
            new AgentClient.Options(Duration.ofSeconds(10), Duration.ofSeconds(30));

    @TempDir
    Path tmp;

    /** These pulls move hundreds of MiB through Netty, as {@code layerprobe pull} does: with its main's settings. */
    @BeforeAll
    static void applyNettyDefaults() {
        NettyDefaults.apply();
    }

    private AgentServer agent;
    private String runId;
    private final List<byte[]> layers = new ArrayList<>();

    @BeforeEach
    void storeARun() throws Exception {
        agent = AgentServer.netty(AgentConfig.builder().port(0).build()).start();
        Random r = new Random(7);
        RunStore.Writer w = agent.runs().begin("model-id", DumpFormat.NATIVE);
        // int8 codes, float32 and int16 layers of uneven sizes, so cuts land anywhere in a layer and between them.
        int[][] shapes = {{1, 8, 300, 301}, {1, 1000}, {1, 4, 250, 250}, {1, 3, 7}, {1, 16, 200, 200}, {1, 2, 9, 9}};
        DataType[] types = {
            DataType.INT8, DataType.FLOAT32, DataType.INT16, DataType.INT8, DataType.INT8, DataType.FLOAT32
        };
        for (int i = 0; i < shapes.length; i++) {
            int elements = Arrays.stream(shapes[i]).reduce(1, (a, b) -> a * b);
            int bytes = elements * (types[i] == DataType.INT8 ? 1 : types[i] == DataType.INT16 ? 2 : 4);
            byte[] data = new byte[bytes];
            r.nextBytes(data);
            LayerHeader.Builder h = LayerHeader.newBuilder()
                    .setIndex(i)
                    .setName("layer/" + i)
                    .setOp("Conv")
                    .setDtype(types[i])
                    .setSizeBytes(bytes);
            for (int d : shapes[i]) {
                h.addShape(d);
            }
            if (types[i] != DataType.FLOAT32) {
                h.setQuant(QuantInfo.newBuilder().addScale(0.05f).addZeroPoint(types[i] == DataType.INT8 ? -3 : 0));
            }
            w.beginLayer(h.build());
            w.write(ByteBuffer.wrap(data));
            w.endLayer(Sha256.hexOf(data));
            layers.add(data);
        }
        runId = w.commit().getRunId();
    }

    @AfterEach
    void stop() {
        agent.close();
    }

    /**
     * The options of a client whose pulls go through {@code bulkProxy} to the agent's bulk port, or
     * over gRPC's PullDump when it is null.
     */
    private static AgentClient.Options through(CuttingProxy bulkProxy) {
        return bulkProxy == null ? SHORT.withoutBulkPulls() : SHORT.withBulkPort(bulkProxy.port());
    }

    @ParameterizedTest(name = "bulk port {0}")
    @ValueSource(booleans = {true, false})
    void aPullCutAtRandomPointsResumesAndVerifiesEveryChecksum(boolean bulk) throws Exception {
        Path out = tmp.resolve("dump");
        long total = layers.stream().mapToLong(b -> b.length).sum();
        long received = 0;
        int attempts = 0;
        RunPull.Result done = null;
        try (CuttingProxy proxy = new CuttingProxy(agent.port(), 42, 20_000, 300_000);
                CuttingProxy bulkProxy = bulk ? new CuttingProxy(agent.bulkPort(), 43, 20_000, 300_000) : null) {
            while (done == null) {
                assertTrue(++attempts < 500, "the pull never completed");
                try (AgentClient client = new AgentClient("127.0.0.1", proxy.port(), through(bulkProxy))) {
                    long[] got = {0};
                    try {
                        done = new RunPull(client, 64 << 10).pull(runId, out, n -> got[0] += n);
                    } catch (AgentException e) {
                        assertTrue(
                                e.code() == AgentException.Code.UNAVAILABLE
                                        || e.code() == AgentException.Code.CANCELLED,
                                e.getMessage());
                        if (Files.exists(out.resolve("manifest.json"))) {
                            assertFalse(
                                    DumpReader.open(out).manifest().complete(),
                                    "an interrupted pull leaves the dump marked incomplete");
                        }
                    }
                    received += got[0];
                }
            }
            CuttingProxy dataProxy = bulk ? bulkProxy : proxy;
            assertTrue(dataProxy.cuts.get() >= 5, "the proxy cut only " + dataProxy.cuts.get() + " times");
        }
        assertEquals(layers.size(), done.layers());
        // Every chunk that reached the sink was kept on disk, and each attempt asked for the bytes
        // after them: over all the cut attempts, exactly the run's bytes came over the wire.
        assertEquals(total, received, "bytes received over " + attempts + " attempts");

        DumpReader dump = DumpReader.open(out);
        assertTrue(dump.manifest().complete());
        assertEquals(layers.size(), dump.layers().size());
        for (int i = 0; i < layers.size(); i++) {
            DumpManifest.Layer l = dump.layers().get(i);
            assertEquals("layer/" + i, l.name());
            assertEquals(Sha256.hexOf(layers.get(i)), l.sha256());
            assertTrue(dump.verify(l), "layer " + i + " verifies");
            byte[] file = Files.readAllBytes(dump.file(l));
            long offset = Npy.readHeader(dump.file(l)).dataOffset();
            assertArrayEquals(layers.get(i), Arrays.copyOfRange(file, (int) offset, file.length));
        }
        assertEquals(-3L, dump.layers().get(0).zeroPoint()[0]);
        assertNull(dump.layers().get(1).scale(), "float layers carry no quantization");

        // Pulling a complete dump again keeps everything and receives nothing.
        try (AgentClient client = new AgentClient("127.0.0.1", agent.port(), SHORT)) {
            RunPull.Result again = new RunPull(client, 0).pull(runId, out, n -> {});
            assertEquals(layers.size(), again.kept());
            assertEquals(0, again.bytesReceived());
        }
    }

    /**
     * The client parses chunks in place over the transport's buffers, which Netty's pool (shared
     * here with the agent, which fills its own buffers with other layers meanwhile) must not hand
     * out again while the sink reads them. Several large pulls at once make any such reuse show.
     */
    @Test
    void concurrentPullsOfLargeLayersDeliverEveryByteIntact() throws Exception {
        Random r = new Random(11);
        RunStore.Writer w = agent.runs().begin("large-model", DumpFormat.NATIVE);
        for (int i = 0; i < 4; i++) {
            byte[] data = new byte[8 << 20];
            r.nextBytes(data);
            w.beginLayer(LayerHeader.newBuilder()
                    .setIndex(i)
                    .setName("large/" + i)
                    .setOp("Conv")
                    .setDtype(DataType.INT8)
                    .addShape(1)
                    .addShape(8)
                    .addShape(1024)
                    .addShape(1024)
                    .setSizeBytes(data.length)
                    .setQuant(QuantInfo.newBuilder().addScale(0.1f).addZeroPoint(0))
                    .build());
            w.write(ByteBuffer.wrap(data));
            w.endLayer(Sha256.hexOf(data));
        }
        String large = w.commit().getRunId();
        int clients = 4;
        List<java.util.concurrent.Future<RunPull.Result>> pulls = new ArrayList<>();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(clients);
        try {
            for (int c = 0; c < clients; c++) {
                Path out = tmp.resolve("large-" + c);
                pulls.add(pool.submit(() -> {
                    try (AgentClient client = new AgentClient("127.0.0.1", agent.port(), SHORT)) {
                        RunPull.Result last = null;
                        for (int round = 0; round < 3; round++) {
                            // Every layer's sha256 is checked against the agent's; a mismatch throws.
                            last = new RunPull(client, 0).pull(large, out.resolve("round-" + round), n -> {});
                        }
                        return last;
                    }
                }));
            }
            for (var p : pulls) {
                assertEquals(4, p.get().layers());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest(name = "bulk port {0}")
    @ValueSource(booleans = {true, false})
    void aCorruptedPartialFileFailsItsChecksumAndIsPulledAfreshNextTime(boolean bulk) throws Exception {
        Path out = tmp.resolve("dump");
        try (CuttingProxy proxy = new CuttingProxy(bulk ? agent.bulkPort() : agent.port(), 1, 400_000, 400_001);
                AgentClient client = bulk
                        ? new AgentClient("127.0.0.1", agent.port(), SHORT.withBulkPort(proxy.port()))
                        : new AgentClient("127.0.0.1", proxy.port(), SHORT.withoutBulkPulls())) {
            assertThrows(AgentException.class, () -> new RunPull(client, 64 << 10).pull(runId, out, n -> {}));
        }
        Path partial;
        try (var s = Files.list(out)) {
            partial = s.filter(p -> p.getFileName().toString().startsWith("0000_"))
                    .findFirst()
                    .orElseThrow();
        }
        try (RandomAccessFile f = new RandomAccessFile(partial.toFile(), "rw")) {
            f.seek(f.length() - 10);
            int b = f.read();
            f.seek(f.length() - 10);
            f.write(b ^ 0xff);
        }
        try (AgentClient client = new AgentClient("127.0.0.1", agent.port(), SHORT)) {
            AgentException e =
                    assertThrows(AgentException.class, () -> new RunPull(client, 0).pull(runId, out, n -> {}));
            assertEquals(AgentException.Code.CHECKSUM, e.code());
            assertTrue(e.getMessage().contains("layer 'layer/0' (#0)"), e.getMessage());
            RunPull.Result r = new RunPull(client, 0).pull(runId, out, n -> {});
            assertEquals(0, r.resumed(), "the corrupt layer starts over");
        }
        DumpReader dump = DumpReader.open(out);
        for (DumpManifest.Layer l : dump.layers()) {
            assertTrue(dump.verify(l));
        }
    }

    @Test
    void aDirectoryHoldingAnotherRunIsRefused() throws Exception {
        Path out = tmp.resolve("dump");
        try (AgentClient client = new AgentClient("127.0.0.1", agent.port(), SHORT)) {
            new RunPull(client, 0).pull(runId, out, n -> {});
            RunStore.Writer w = agent.runs().begin("other", DumpFormat.NATIVE);
            w.beginLayer(LayerHeader.newBuilder()
                    .setIndex(0)
                    .setName("x")
                    .setDtype(DataType.FLOAT32)
                    .addShape(1)
                    .setSizeBytes(4)
                    .build());
            w.write(ByteBuffer.allocate(4));
            w.endLayer(Sha256.hexOf(new byte[4]));
            String other = w.commit().getRunId();
            var e = assertThrows(java.io.IOException.class, () -> new RunPull(client, 0).pull(other, out, n -> {}));
            assertTrue(e.getMessage().contains("pull into an empty directory"), e.getMessage());
        }
    }
}
