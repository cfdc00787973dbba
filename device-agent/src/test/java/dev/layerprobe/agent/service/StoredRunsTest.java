package dev.layerprobe.agent.service;

import static dev.layerprobe.agent.service.AgentClient.request;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.agent.backend.FakeBackend;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.ListRunsRequest;
import dev.layerprobe.proto.v1.PullDumpRequest;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.RunInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.netty.buffer.PoolArenaMetric;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stored runs over an in-process server: every Run but a stream-only one is kept, ListRuns lists it,
 * PullDump resumes at any offset.
 */
class StoredRunsTest {
    private static final byte[] MODEL = "fake model".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    private AgentServer server;
    private ManagedChannel channel;
    private AgentClient client;

    private void start(AgentConfig config) throws Exception {
        start(
                config,
                List.of(
                        FakeBackend.int8Layer(0, "conv1", "Conv", 1, 3, 40, 40),
                        FakeBackend.int16Layer(1, "add", "Add", 1, 5000),
                        FakeBackend.floatLayer(2, "softmax", "Softmax", 1, 10)));
    }

    private void start(AgentConfig config, List<FakeBackend.FakeLayer> layers) throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = new AgentServer(
                        InProcessServerBuilder.forName(name).directExecutor(),
                        config,
                        new FakeBackend(config.profile(), layers))
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
        client = new AgentClient(channel);
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theSummaryNamesAStoredRunWhoseLayersPullBackByteForByteFromAnyOffset() throws Exception {
        start(AgentConfig.builder().runDir(tmp.resolve("runs")).build());
        String model = client.upload(MODEL);
        RunCollector run = client.run(request(model, DumpFormat.NATIVE, 4096));
        run.assertComplete();

        List<RunInfo> runs =
                client.blocking().listRuns(ListRunsRequest.getDefaultInstance()).getRunsList();
        assertEquals(1, runs.size());
        assertEquals(run.summary.getRunId(), runs.get(0).getRunId());
        assertEquals(model, runs.get(0).getModelId());
        assertEquals(run.summary.getTotalBytes(), runs.get(0).getTotalBytes());
        assertEquals(0, runs.get(0).getLayerListCount(), "the listing of all runs leaves the layers out");

        RunInfo one = client.blocking()
                .listRuns(ListRunsRequest.newBuilder()
                        .setRunId(run.summary.getRunId())
                        .build())
                .getRuns(0);
        assertEquals(3, one.getLayerListCount());
        for (int i = 0; i < 3; i++) {
            RunCollector.Received sent = run.layers.get(i);
            assertEquals(sent.header(), one.getLayerList(i).getHeader());
            assertEquals(sent.sha256(), one.getLayerList(i).getSha256());
            for (long offset : new long[] {0, 1, sent.data().length / 2, sent.data().length}) {
                Pulled p = pull(run.summary.getRunId(), i, offset, 4096);
                assertEquals(sent.sha256(), p.sha256, "the end carries the whole layer's sha256");
                byte[] tail = java.util.Arrays.copyOfRange(sent.data(), (int) offset, sent.data().length);
                assertArrayEquals(tail, p.data, "layer " + i + " from offset " + offset);
            }
        }
    }

    /**
     * Over Netty, each chunk is read from its file into a pooled buffer that gRPC's framer sends as
     * it is ({@link FramerBuffers}), and the transport releases it once written: the bytes arrive
     * intact from any offset in chunks of any size, and every such buffer goes back to the pool.
     */
    @Test
    void overNettyChunksGoOutInBuffersThatAllReturnToThePool() throws Exception {
        assertTrue(
                FramerBuffers.AVAILABLE,
                "gRPC's framer no longer takes buffers: a gRPC-Java upgrade moved what FramerBuffers"
                        + " reaches for, and PullDump now copies every chunk; update FramerBuffers");
        var layers = List.of(
                FakeBackend.int8Layer(0, "conv1", "Conv", 1, 8, 512, 300),
                FakeBackend.floatLayer(1, "softmax", "Softmax", 1, 10));
        server = new AgentServer(
                        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
                        AgentConfig.builder().runDir(tmp.resolve("runs")).build(),
                        new FakeBackend(AgentConfig.defaults().profile(), layers))
                .start();
        channel = NettyChannelBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()))
                .usePlaintext()
                .maxInboundMessageSize(8 << 20)
                .build();
        client = new AgentClient(channel);
        RunCollector run = client.run(request(client.upload(MODEL), DumpFormat.NATIVE, 0));
        run.assertComplete();
        long before = activeDirectBuffers();
        byte[] big = run.layers.get(0).data();
        // The default 1 MiB chunks, chunks that end where neither HTTP/2 frames nor 1 MiB do, and the
        // small layer in one chunk shorter than a frame.
        for (int chunk : new int[] {0, 100_000, 65_537}) {
            for (long offset : new long[] {0, 3, big.length - 70_000}) {
                Pulled p = pull(run.summary.getRunId(), 0, offset, chunk);
                assertEquals(run.layers.get(0).sha256(), p.sha256);
                assertArrayEquals(
                        java.util.Arrays.copyOfRange(big, (int) offset, big.length),
                        p.data,
                        "from offset " + offset + " in chunks of " + chunk);
            }
        }
        assertArrayEquals(run.layers.get(1).data(), pull(run.summary.getRunId(), 1, 0, 0).data);
        // The transport releases a buffer once the socket has taken it, which may be just after the
        // client has read its bytes.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (activeDirectBuffers() != before && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(before, activeDirectBuffers(), "direct buffers taken from the pool and never released");
    }

    /** Buffers allocated from, and not yet released to, the pool {@link FileChunk} takes them from. */
    private static long activeDirectBuffers() {
        return PooledByteBufAllocator.DEFAULT.metric().directArenas().stream()
                .mapToLong(PoolArenaMetric::numActiveAllocations)
                .sum();
    }

    @Test
    void aStreamOnlyRunStreamsEveryLayerButLeavesNothingOnDisk() throws Exception {
        start(AgentConfig.builder().runDir(tmp.resolve("runs")).build());
        String model = client.upload(MODEL);
        RunCollector kept = client.run(request(model, DumpFormat.NATIVE, 4096));
        RunCollector streamed = client.run(request(model, DumpFormat.NATIVE, 4096).toBuilder()
                .setStreamOnly(true)
                .build());
        kept.assertComplete();

        assertEquals(kept.summary.getTotalBytes(), streamed.summary.getTotalBytes());
        assertEquals(3, streamed.summary.getLayers());
        assertEquals("", streamed.summary.getRunId(), "no stored run to name");
        assertEquals(3, streamed.layers.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(kept.layers.get(i).header(), streamed.layers.get(i).header());
            assertEquals(kept.layers.get(i).sha256(), streamed.layers.get(i).sha256());
            assertArrayEquals(kept.layers.get(i).data(), streamed.layers.get(i).data(), "layer " + i);
        }
        List<RunInfo> runs =
                client.blocking().listRuns(ListRunsRequest.getDefaultInstance()).getRunsList();
        assertEquals(
                List.of(kept.summary.getRunId()),
                runs.stream().map(RunInfo::getRunId).toList());
        try (var dirs = Files.list(tmp.resolve("runs"))) {
            assertEquals(1, dirs.count(), "only the kept run has a directory");
        }
    }

    @Test
    void runsSurviveARestartOnTheSameDataDirectory() throws Exception {
        start(AgentConfig.builder().runDir(tmp.resolve("runs")).build());
        RunCollector run = client.run(request(client.upload(MODEL), DumpFormat.NATIVE, 0));
        stop();
        start(AgentConfig.builder().runDir(tmp.resolve("runs")).build());
        assertEquals(
                run.summary.getRunId(),
                client.blocking()
                        .listRuns(ListRunsRequest.getDefaultInstance())
                        .getRuns(0)
                        .getRunId());
        assertArrayEquals(run.layers.get(1).data(), pull(run.summary.getRunId(), 1, 0, 0).data);
    }

    @Test
    void aTemporaryStoreIsDeletedWithTheAgent() throws Exception {
        start(AgentConfig.defaults());
        client.run(request(client.upload(MODEL), DumpFormat.NATIVE, 0));
        Path dir = server.runs().dir();
        assertTrue(Files.isDirectory(dir));
        stop();
        server = null;
        assertTrue(Files.notExists(dir));
    }

    @Test
    void badPullsGetStatusesThatSayWhy() throws Exception {
        start(AgentConfig.builder().runDir(tmp.resolve("runs")).build());
        String runId = client.run(request(client.upload(MODEL), DumpFormat.NATIVE, 0))
                .summary
                .getRunId();

        StatusRuntimeException e =
                assertThrows(StatusRuntimeException.class, () -> pull("00000000-0000-0000-0000-000000000000", 0, 0, 0));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertTrue(
                e.getStatus().getDescription().contains("no stored run"),
                e.getStatus().getDescription());
        e = assertThrows(StatusRuntimeException.class, () -> pull("../../etc", 0, 0, 0));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        e = assertThrows(StatusRuntimeException.class, () -> pull(runId, 3, 0, 0));
        assertEquals(Status.Code.OUT_OF_RANGE, e.getStatus().getCode());
        assertTrue(
                e.getStatus().getDescription().contains("layers 0..2"),
                e.getStatus().getDescription());
        e = assertThrows(StatusRuntimeException.class, () -> pull(runId, 0, 1L << 40, 0));
        assertEquals(Status.Code.OUT_OF_RANGE, e.getStatus().getCode());
        e = assertThrows(
                StatusRuntimeException.class,
                () -> client.blocking()
                        .listRuns(ListRunsRequest.newBuilder().setRunId("nope").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    }

    private record Pulled(byte[] data, String sha256) {}

    private Pulled pull(String runId, int layer, long offset, int chunk) {
        Iterator<RunEvent> events = client.blocking()
                .pullDump(PullDumpRequest.newBuilder()
                        .setRunId(runId)
                        .setLayer(layer)
                        .setOffset(offset)
                        .setChunkBytes(chunk)
                        .build());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<RunEvent.EventCase> order = new ArrayList<>();
        String sha = null;
        while (events.hasNext()) {
            RunEvent e = events.next();
            order.add(e.getEventCase());
            switch (e.getEventCase()) {
                case CHUNK -> {
                    assertEquals(offset + out.size(), e.getChunk().getOffset(), "chunks start at the offset asked for");
                    out.writeBytes(e.getChunk().getData().toByteArray());
                }
                case END -> sha = e.getEnd().getSha256();
                default -> {}
            }
        }
        assertEquals(RunEvent.EventCase.HEADER, order.get(0));
        assertEquals(RunEvent.EventCase.END, order.get(order.size() - 1));
        return new Pulled(out.toByteArray(), sha);
    }
}
