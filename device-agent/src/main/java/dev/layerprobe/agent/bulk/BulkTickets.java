package dev.layerprobe.agent.bulk;

import com.google.protobuf.ByteString;
import dev.layerprobe.proto.v1.BulkPullTicket;
import io.grpc.Status;
import io.grpc.StatusException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;

/**
 * The tickets that admit a bulk connection to a stored run. {@code OpenBulkPull}, a gRPC call that
 * has passed the agent's access checks (bearer token, TLS), issues one; the bulk port admits a
 * connection that presents it within {@link #TTL}, once. So the bulk port needs no credentials of
 * its own and lets through no one the gRPC port would not: a ticket is 256 bits from
 * {@link SecureRandom}, never logged, and spent on first use.
 *
 * <p>Thread-safe.
 */
public final class BulkTickets {
    /** How long a ticket waits for its connection. */
    public static final Duration TTL = Duration.ofSeconds(60);

    /** Tickets issued and not yet used; more at once means a client that never connects. */
    static final int MAX_OUTSTANDING = 1024;

    private record Grant(String runId, long expiresAtMillis) {}

    private final SecureRandom random = new SecureRandom();
    private final Clock clock;
    private final Map<String, Grant> outstanding = new HashMap<>();
    private int port;

    public BulkTickets() {
        this(Clock.systemUTC());
    }

    BulkTickets(Clock clock) {
        this.clock = clock;
    }

    /** The bulk port is listening on {@code port}; tickets name it. */
    synchronized void serving(int port) {
        this.port = port;
    }

    /** The bulk port has closed: no more tickets, and the outstanding ones are void. */
    synchronized void stopped() {
        this.port = 0;
        outstanding.clear();
    }

    /**
     * A ticket to run {@code runId}'s layers on the bulk port. The caller has checked that the run
     * is stored.
     *
     * @throws StatusException FAILED_PRECONDITION when the agent serves no bulk port,
     *     RESOURCE_EXHAUSTED when too many tickets are waiting for their connection
     */
    public synchronized BulkPullTicket issue(String runId) throws StatusException {
        if (port == 0) {
            throw Status.FAILED_PRECONDITION
                    .withDescription(
                            "this agent serves no bulk port (started with --bulk-port off, or in-process); pull with PullDump")
                    .asException();
        }
        long now = clock.millis();
        for (Iterator<Grant> it = outstanding.values().iterator(); it.hasNext(); ) {
            if (it.next().expiresAtMillis() <= now) {
                it.remove();
            }
        }
        if (outstanding.size() >= MAX_OUTSTANDING) {
            throw Status.RESOURCE_EXHAUSTED
                    .withDescription(MAX_OUTSTANDING + " bulk tickets are waiting for their connection")
                    .asException();
        }
        byte[] ticket = new byte[BulkProtocol.TICKET_BYTES];
        random.nextBytes(ticket);
        outstanding.put(HexFormat.of().formatHex(ticket), new Grant(runId, now + TTL.toMillis()));
        return BulkPullTicket.newBuilder()
                .setPort(port)
                .setTicket(ByteString.copyFrom(ticket))
                .setExpiresInMillis(TTL.toMillis())
                .build();
    }

    /** The run a ticket admits to, spending it; null for a ticket that is unknown, used or expired. */
    synchronized String redeem(byte[] ticket) {
        Grant g = outstanding.remove(HexFormat.of().formatHex(ticket));
        return g == null || g.expiresAtMillis() <= clock.millis() ? null : g.runId();
    }
}
