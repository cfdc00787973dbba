package dev.layerprobe.agent.bulk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.ManualClock;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.agent.store.TestRuns;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.proto.v1.BulkPullTicket;
import dev.layerprobe.proto.v1.DumpFormat;
import io.grpc.Status;
import io.grpc.StatusException;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The bulk port over real loopback sockets: admission by ticket, answers, errors, pipelining. */
class BulkServerTest {
    private final ManualClock clock = new ManualClock();
    private final BulkTickets tickets = new BulkTickets(clock);
    private RunStore runs;
    private BulkServer server;
    private String runId;
    private byte[] layer0;
    private byte[] layer1;

    @BeforeEach
    void start() throws IOException {
        runs = RunStore.temporary(RunStore.Retention.DEFAULT);
        Random random = new Random(5);
        // Larger than a socket buffer, and not a multiple of anything.
        layer0 = new byte[(5 << 20) + 13];
        layer1 = new byte[1000];
        random.nextBytes(layer0);
        random.nextBytes(layer1);
        RunStore.Writer w = runs.begin("model", DumpFormat.NATIVE);
        TestRuns.layer(w, 0, layer0);
        TestRuns.layer(w, 1, layer1);
        runId = w.commit().getRunId();
        server = BulkServer.start(InetAddress.getLoopbackAddress(), 0, null, runs, tickets);
    }

    @AfterEach
    void stop() {
        server.close();
        runs.close();
    }

    @Test
    void aTicketAdmitsToTheRunsLayersAnsweredInOrder() throws Exception {
        BulkPullTicket t = tickets.issue(runId);
        assertEquals(server.port(), t.getPort());
        try (Client c = new Client(t)) {
            // Three requests before reading any answer: they come back in order.
            c.request(0, 0);
            c.request(1, 0);
            c.request(0, 4097);
            assertArrayEquals(layer0, c.ok(Sha256.hexOf(layer0)));
            assertArrayEquals(layer1, c.ok(Sha256.hexOf(layer1)));
            assertArrayEquals(Arrays.copyOfRange(layer0, 4097, layer0.length), c.ok(Sha256.hexOf(layer0)));
            // At the end of the layer: nothing left to send, and still the sha256 of the whole layer.
            c.request(1, layer1.length);
            assertEquals(0, c.ok(Sha256.hexOf(layer1)).length);
        }
    }

    @Test
    void aBadRequestIsAnsweredAndTheConnectionServesTheNext() throws Exception {
        try (Client c = new Client(tickets.issue(runId))) {
            c.request(7, 0);
            assertTrue(c.error(Status.Code.OUT_OF_RANGE).contains("has layers 0..1, not 7"));
            c.request(1, layer1.length + 1);
            assertTrue(c.error(Status.Code.OUT_OF_RANGE).contains("offset 1001 is outside layer 'l1'"));
            c.request(1, 0);
            assertArrayEquals(layer1, c.ok(Sha256.hexOf(layer1)));
        }
    }

    @Test
    void aTicketIsGoodForOneConnection() throws Exception {
        BulkPullTicket t = tickets.issue(runId);
        try (Client first = new Client(t)) {
            first.request(1, 0);
            assertArrayEquals(layer1, first.ok(Sha256.hexOf(layer1)));
            try (Client second = new Client(t)) {
                second.request(1, 0);
                assertTrue(second.error(Status.Code.UNAUTHENTICATED).contains("unknown, used or expired"));
                second.assertClosed();
            }
        }
    }

    @Test
    void anExpiredOrUnknownTicketIsRefused() throws Exception {
        BulkPullTicket t = tickets.issue(runId);
        clock.advance(BulkTickets.TTL.plusMillis(1));
        try (Client c = new Client(t)) {
            assertTrue(c.error(Status.Code.UNAUTHENTICATED).contains("expired"));
            c.assertClosed();
        }
        BulkPullTicket forged = t.toBuilder()
                .setTicket(com.google.protobuf.ByteString.copyFrom(new byte[BulkProtocol.TICKET_BYTES]))
                .build();
        try (Client c = new Client(forged)) {
            c.error(Status.Code.UNAUTHENTICATED);
            c.assertClosed();
        }
    }

    @Test
    void aConnectionThatIsNotOursIsToldSoAndClosed() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            // What a gRPC client sends first, shorter than a bulk opening: refused at once.
            s.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            DataInputStream in = new DataInputStream(s.getInputStream());
            assertEquals(Status.Code.INVALID_ARGUMENT.value(), in.readUnsignedByte());
            byte[] d = new byte[in.readUnsignedShort()];
            in.readFully(d);
            assertTrue(new String(d, StandardCharsets.UTF_8).contains("not a LayerProbe bulk connection"));
            assertEquals(-1, in.read());
        }
    }

    @Test
    void aClientThatLeavesMidLayerLeavesTheServerServing() throws Exception {
        try (Client c = new Client(tickets.issue(runId))) {
            c.request(0, 0);
            c.in.readFully(new byte[BulkProtocol.OK_HEADER_BYTES + 1000]);
        }
        try (Client c = new Client(tickets.issue(runId))) {
            c.request(0, 0);
            assertArrayEquals(layer0, c.ok(Sha256.hexOf(layer0)));
        }
    }

    @Test
    void noTicketsOnceClosedAndNoneLeftOver() throws Exception {
        BulkPullTicket t = tickets.issue(runId);
        server.close();
        StatusException e = assertThrows(StatusException.class, () -> tickets.issue(runId));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertEquals(null, tickets.redeem(t.getTicket().toByteArray()));
    }

    @Test
    void ticketsWaitingForTheirConnectionAreBounded() throws Exception {
        for (int i = 0; i < BulkTickets.MAX_OUTSTANDING; i++) {
            tickets.issue(runId);
        }
        StatusException e = assertThrows(StatusException.class, () -> tickets.issue(runId));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        clock.advance(BulkTickets.TTL.plusMillis(1));
        tickets.issue(runId);
    }

    /** A blocking client of the bulk protocol. */
    private static final class Client implements AutoCloseable {
        final Socket socket;
        final DataInputStream in;
        final DataOutputStream out;

        Client(BulkPullTicket ticket) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), ticket.getPort());
            socket.setSoTimeout(10_000);
            in = new DataInputStream(socket.getInputStream());
            out = new DataOutputStream(socket.getOutputStream());
            out.write(BulkProtocol.MAGIC);
            out.write(ticket.getTicket().toByteArray());
            out.flush();
        }

        void request(int layer, long offset) throws IOException {
            out.writeInt(layer);
            out.writeLong(offset);
            out.flush();
        }

        byte[] ok(String sha) throws IOException {
            assertEquals(BulkProtocol.OK, in.readUnsignedByte());
            long n = in.readLong();
            byte[] s = new byte[BulkProtocol.SHA256_HEX_BYTES];
            in.readFully(s);
            assertEquals(sha, new String(s, StandardCharsets.US_ASCII));
            byte[] data = new byte[(int) n];
            in.readFully(data);
            return data;
        }

        String error(Status.Code code) throws IOException {
            assertEquals(code.value(), in.readUnsignedByte());
            byte[] d = new byte[in.readUnsignedShort()];
            in.readFully(d);
            return new String(d, StandardCharsets.UTF_8);
        }

        void assertClosed() throws IOException {
            assertThrows(EOFException.class, in::readByte);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
