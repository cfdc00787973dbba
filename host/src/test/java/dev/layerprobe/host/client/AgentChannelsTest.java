package dev.layerprobe.host.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.LayerHeader;
import io.netty.util.ResourceLeakDetector;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AgentChannelsTest {
    @Test
    void addressesParseWithIpv6HostsInBrackets() throws AgentException {
        assertEquals(new AgentChannels.HostPort("::1", 50051), AgentChannels.HostPort.parse("[::1]:50051"));
        assertEquals(new AgentChannels.HostPort("board.local", 1), AgentChannels.HostPort.parse("board.local:1"));
        for (String bad : new String[] {":50051", "host:", "host:0", "host:65536", "host:x", "[]:1"}) {
            AgentException e = assertThrows(AgentException.class, () -> AgentChannels.HostPort.parse(bad), bad);
            assertEquals(AgentException.Code.BAD_ADDRESS, e.code());
        }
    }

    /** Process-wide settings are main's to make: a client or an agent in a library call leaves them alone. */
    @Test
    void clientsAndAgentsLeaveNettysProcessSettingsAlone() throws Exception {
        ResourceLeakDetector.Level before = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        try (AgentServer agent = AgentServer.netty(AgentConfig.builder()
                                .bindHost("127.0.0.1")
                                .port(0)
                                .build())
                        .start();
                AgentClient plain = new AgentClient("127.0.0.1", agent.port());
                AgentClient connected = AgentClient.connect("127.0.0.1:" + agent.port())) {
            assertEquals(plain.info().getDevice(), connected.info().getDevice());
            assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel());
        } finally {
            ResourceLeakDetector.setLevel(before);
        }
    }

    /**
     * The host's channels decode HTTP/2 over the buffers the socket was read into, composed rather
     * than copied ({@link ComposingNegotiation}), and the pull hands slices of them to the sink: every
     * byte must still arrive once, in order, where frames, socket reads and chunks all end at
     * different places, from the start and from an offset; and a received buffer must not be reused
     * while the sink still reads it (a second pull alongside, on another connection, allocates from
     * the same pool, so a buffer released too early would be overwritten).
     */
    @Test
    void pulledBytesArriveIntactWhereFramesReadsAndChunksEndApart() throws Exception {
        try (AgentServer agent = AgentServer.netty(AgentConfig.builder()
                                .bindHost("127.0.0.1")
                                .port(0)
                                .build())
                        .start();
                AgentClient one = new AgentClient("127.0.0.1", agent.port());
                AgentClient two = AgentClient.connect("127.0.0.1:" + agent.port())) {
            byte[] data = new byte[(6 << 20) + 5];
            new Random(3).nextBytes(data);
            LayerHeader h = LayerHeader.newBuilder()
                    .setIndex(0)
                    .setName("odd")
                    .setOp("Conv")
                    .setDtype(DataType.INT8)
                    .addShape(data.length)
                    .setSizeBytes(data.length)
                    .build();
            RunStore.Writer w = agent.runs().begin("model", DumpFormat.NATIVE);
            w.beginLayer(h);
            w.write(ByteBuffer.wrap(data));
            w.endLayer(Sha256.hexOf(data));
            String run = w.commit().getRunId();
            // 100,000-byte chunks: neither a multiple of HTTP/2's 16 KiB frames nor of the socket reads.
            var alongside =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> pullAndCompare(two, run, h, data, 0));
            assertEquals(data.length, pullAndCompare(one, run, h, data, 0));
            assertEquals(data.length - 1_234_567, pullAndCompare(one, run, h, data, 1_234_567));
            assertEquals(data.length, alongside.get());
        }
    }

    /** Pulls from {@code offset} in 100,000-byte chunks, comparing each byte with {@code data}; returns the count. */
    private static long pullAndCompare(AgentClient client, String run, LayerHeader h, byte[] data, long offset) {
        long[] at = {offset};
        try {
            String sha = client.pullLayer(run, h, offset, 100_000, buf -> {
                while (buf.hasRemaining()) {
                    int i = (int) at[0]++;
                    if (buf.get() != data[i]) {
                        throw new java.io.IOException("byte " + i + " differs");
                    }
                }
            });
            assertEquals(Sha256.hexOf(data), sha);
        } catch (AgentException e) {
            throw new AssertionError(e);
        }
        assertEquals(data.length, at[0]);
        return at[0] - offset;
    }
}
