package dev.layerprobe.host.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.agent.bulk.BulkProtocol;
import dev.layerprobe.agent.store.TestRuns;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.proto.v1.BulkPullTicket;
import dev.layerprobe.proto.v1.LayerHeader;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Pulls over the agent's bulk port, and the fallbacks to gRPC, against real loopback agents. */
class BulkPullTest {
    private final byte[] data = new byte[(3 << 20) + 5];
    private final LayerHeader header = TestRuns.header(0, data.length);
    private AgentServer agent;
    private String runId;

    BulkPullTest() {
        new Random(3).nextBytes(data);
    }

    private void startAgent(int bulkPort) throws Exception {
        agent = AgentServer.netty(
                        AgentConfig.builder().port(0).bulkPort(bulkPort).build())
                .start();
        runId = TestRuns.oneLayer(agent.runs(), data);
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
    }

    private static byte[] pull(AgentClient client, String runId, LayerHeader h, long offset) throws AgentException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        String sha = client.pullLayer(runId, h, offset, 0, b -> {
            byte[] a = new byte[b.remaining()];
            b.get(a);
            got.write(a, 0, a.length);
        });
        assertEquals(64, sha.length());
        return got.toByteArray();
    }

    @Test
    void layersComeOverTheBulkPortByteForByteFromAnyOffset() throws Exception {
        startAgent(0);
        assertTrue(agent.bulkPort() > 0);
        try (AgentClient client = new AgentClient("127.0.0.1", agent.port())) {
            assertArrayEquals(data, pull(client, runId, header, 0));
            // The same connection again, from an offset, and at the very end.
            assertArrayEquals(Arrays.copyOfRange(data, 65_537, data.length), pull(client, runId, header, 65_537));
            assertEquals(0, pull(client, runId, header, data.length).length);
            assertTrue(
                    client.bulkUnavailable().isEmpty(), client.bulkUnavailable().toString());
        }
    }

    @Test
    void theAgentsErrorsKeepTheirStatusAndTheConnectionItsUse() throws Exception {
        startAgent(0);
        try (AgentClient client = new AgentClient("127.0.0.1", agent.port())) {
            AgentException e = assertThrows(
                    AgentException.class,
                    () -> pull(client, runId, header.toBuilder().setIndex(3).build(), 0));
            assertEquals(Status.Code.OUT_OF_RANGE, e.status());
            assertTrue(e.getMessage().contains("has layers 0..0, not 3"), e.getMessage());
            AgentException missing = assertThrows(AgentException.class, () -> pull(client, "nope", header, 0));
            assertEquals(Status.Code.NOT_FOUND, missing.status());
            assertArrayEquals(data, pull(client, runId, header, 0));
            assertTrue(client.bulkUnavailable().isEmpty());
        }
    }

    @Test
    void aFailingSinkIsTheSinksFailureAndTheNextPullWorks() throws Exception {
        startAgent(0);
        try (AgentClient client = new AgentClient("127.0.0.1", agent.port())) {
            AgentException e = assertThrows(
                    AgentException.class,
                    () -> client.pullLayer(runId, header, 0, 0, b -> {
                        throw new IOException("disk full");
                    }));
            assertEquals(AgentException.Code.SINK, e.code());
            assertTrue(e.getMessage().contains("disk full"), e.getMessage());
            assertArrayEquals(data, pull(client, runId, header, 0));
        }
    }

    @Test
    void anAgentWithoutABulkPortIsPulledOverGrpc() throws Exception {
        startAgent(AgentConfig.BULK_OFF);
        assertEquals(-1, agent.bulkPort());
        try (AgentClient client = new AgentClient("127.0.0.1", agent.port())) {
            assertArrayEquals(Arrays.copyOfRange(data, 100, data.length), pull(client, runId, header, 100));
            assertTrue(client.bulkUnavailable().orElseThrow().contains("serves no bulk port"));
            assertTrue(client.bulkUnreachable().isEmpty(), "nothing for the user to forward");
        }
    }

    @Test
    void anAgentOlderThanTheBulkPortIsPulledOverGrpcFromThenOn() throws Exception {
        // What gRPC answers for a method the agent's service does not have.
        int[] asked = {0};
        BulkPull bulk = new BulkPull("127.0.0.1", 0, null, "dev:1", id -> {
            asked[0]++;
            throw AgentException.fromStatus(
                    Status.UNIMPLEMENTED
                            .withDescription("Method not found: layerprobe.v1.DeviceAgent/OpenBulkPull")
                            .asRuntimeException(),
                    "dev:1",
                    "OpenBulkPull",
                    Duration.ofSeconds(5));
        });
        assertThrows(BulkPull.Unavailable.class, () -> bulk.pull("r", header, 0, b -> {}, Duration.ofSeconds(5)));
        assertTrue(bulk.unavailable().contains("serves no bulk port"), bulk.unavailable());
        assertFalse(bulk.unreachable(), "nothing for the user to forward");
        assertThrows(BulkPull.Unavailable.class, () -> bulk.pull("r", header, 0, b -> {}, Duration.ofSeconds(5)));
        assertEquals(1, asked[0], "no second ticket asked of an agent without the call");
    }

    @Test
    void anUnreachableBulkPortMeansGrpcFromThenOnAndSaysWhy() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        int[] asked = {0};
        BulkPull bulk = new BulkPull("127.0.0.1", 0, null, "dev:1", id -> {
            asked[0]++;
            return ticket(closed);
        });
        assertThrows(BulkPull.Unavailable.class, () -> bulk.pull("r", header, 0, b -> {}, Duration.ofSeconds(5)));
        assertTrue(bulk.unavailable().contains("127.0.0.1:" + closed + " cannot be reached"), bulk.unavailable());
        assertTrue(bulk.unavailable().contains("forward its --bulk-port"), bulk.unavailable());
        assertTrue(bulk.unreachable());
        assertThrows(BulkPull.Unavailable.class, () -> bulk.pull("r", header, 0, b -> {}, Duration.ofSeconds(5)));
        assertEquals(1, asked[0], "no second ticket once the port is known unreachable");
    }

    @Test
    void aBulkPortThatNeverAnswersMeetsTheDeadline() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            BulkPull bulk = new BulkPull("127.0.0.1", 0, null, "dev:1", id -> ticket(silent.getLocalPort()));
            long t0 = System.nanoTime();
            AgentException e = assertThrows(
                    AgentException.class, () -> bulk.pull("r", header, 0, b -> {}, Duration.ofMillis(300)));
            assertEquals(AgentException.Code.DEADLINE_EXCEEDED, e.code(), e.getMessage());
            assertTrue(e.getMessage().contains("within 300 ms"), e.getMessage());
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
        }
    }

    @Test
    void aKeptConnectionTheAgentClosedIsReplacedWithoutLosingTheLayer() throws Exception {
        byte[] small = Arrays.copyOf(data, 1000);
        String sha = Sha256.hexOf(small);
        LayerHeader h = header.toBuilder().setSizeBytes(small.length).build();
        try (ServerSocket fake = new ServerSocket(0, 2, InetAddress.getLoopbackAddress())) {
            // An agent that answers one request per connection, then closes it.
            Thread agentSide = new Thread(() -> {
                for (int i = 0; i < 2; i++) {
                    try (Socket s = fake.accept()) {
                        java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
                        in.readFully(new byte[BulkProtocol.HELLO_BYTES + BulkProtocol.REQUEST_BYTES]);
                        java.io.DataOutputStream out = new java.io.DataOutputStream(s.getOutputStream());
                        out.writeByte(BulkProtocol.OK);
                        out.writeLong(small.length);
                        out.write(sha.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                        out.write(small);
                        out.flush();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            agentSide.start();
            int[] tickets = {0};
            try (BulkPull bulk = new BulkPull("127.0.0.1", 0, null, "dev:1", id -> {
                tickets[0]++;
                return ticket(fake.getLocalPort());
            })) {
                for (int i = 0; i < 2; i++) {
                    ByteArrayOutputStream got = new ByteArrayOutputStream();
                    assertEquals(
                            sha,
                            bulk.pull(
                                    "r",
                                    h,
                                    0,
                                    b -> {
                                        byte[] a = new byte[b.remaining()];
                                        b.get(a);
                                        got.write(a, 0, a.length);
                                    },
                                    Duration.ofSeconds(10)));
                    assertArrayEquals(small, got.toByteArray());
                }
            }
            agentSide.join(10_000);
            assertEquals(2, tickets[0], "the second pull found its kept connection closed and opened another");
        }
    }

    private static BulkPullTicket ticket(int port) {
        return BulkPullTicket.newBuilder()
                .setPort(port)
                .setTicket(ByteString.copyFrom(new byte[BulkProtocol.TICKET_BYTES]))
                .setExpiresInMillis(60_000)
                .build();
    }
}
