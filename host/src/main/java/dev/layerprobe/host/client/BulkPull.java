package dev.layerprobe.host.client;

import dev.layerprobe.agent.bulk.BulkProtocol;
import dev.layerprobe.core.OneLine;
import dev.layerprobe.proto.v1.BulkPullTicket;
import dev.layerprobe.proto.v1.LayerHeader;
import io.grpc.Status;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Pulls stored layers over an agent's bulk port ({@link BulkProtocol}) for an {@link AgentClient}:
 * a ticket from {@code OpenBulkPull} over gRPC (so the token and TLS of the gRPC channel admit the
 * connection), then a plain TCP connection, TLS when the endpoint has a CA, to the same host at the
 * ticket's port, which carries the layer's bytes unframed. Plaintext bytes are read into one direct
 * buffer per connection and handed to the sink from it, as a plain socket copy reads them.
 *
 * <p>When the agent serves no bulk port (FAILED_PRECONDITION, or UNIMPLEMENTED from an agent that
 * predates it) or the port cannot be reached (not forwarded, say), {@link #pull} throws
 * {@link Unavailable} and every later pull of this client goes over gRPC's {@code PullDump};
 * {@link #unavailable()} says why. A connection serves one run, and is kept for the client's next
 * layer of that run. The sink is called on the calling thread. The whole pull of a layer has the
 * client's run deadline, after which the connection is closed; an interrupt closes it too.
 *
 * <p>Thread-safe: each pull takes a connection of its own.
 */
final class BulkPull implements AutoCloseable {
    /** How long connecting to the bulk port may take before the client pulls over gRPC instead. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** The plaintext read buffer, per connection: what the bench's plain socket copy reads into. */
    static final int READ_BYTES = 1 << 20;
    /** Idle connections kept per client. */
    static final int MAX_IDLE = 4;
    /** How long an idle connection is kept: well within the agent's 120 s. */
    static final Duration MAX_IDLE_TIME = Duration.ofSeconds(60);

    private static final ScheduledExecutorService DEADLINES = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "layerprobe-bulk-deadline");
        t.setDaemon(true);
        return t;
    });

    /** Asks the agent for a ticket: {@code OpenBulkPull} over the client's channel. */
    @FunctionalInterface
    interface Tickets {
        BulkPullTicket open(String runId) throws AgentException;
    }

    /** The agent serves no reachable bulk port: pull over gRPC. */
    static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(String message) {
            super(message, null, false, false);
        }
    }

    private final String host;
    private final int port;
    private final SSLContext tls;
    private final String target;
    private final Tickets tickets;
    private final Deque<Connection> idle = new ArrayDeque<>();
    private volatile String unavailable;
    private volatile boolean unreachable;
    private boolean closed;

    /**
     * @param host the agent's host as the client reaches it (the gRPC target's)
     * @param port the bulk port as the client reaches it, or 0 for the one the agent names
     * @param tls the context trusting the agent's certificate, or null for plaintext
     * @param target how messages name the device
     */
    BulkPull(String host, int port, SSLContext tls, String target, Tickets tickets) {
        this.host = host;
        this.port = port;
        this.tls = tls;
        this.target = target;
        this.tickets = tickets;
    }

    /** Why pulls go over gRPC, or null while the bulk port is in use (or not yet tried). */
    String unavailable() {
        return unavailable;
    }

    /** Whether pulls go over gRPC because the agent's bulk port could not be reached (not because it has none). */
    boolean unreachable() {
        return unreachable;
    }

    /**
     * Pulls {@code layer} of stored run {@code runId} from {@code offset} into {@code sink}.
     *
     * @return the sha256 the agent stored for the whole layer
     * @throws Unavailable when the agent has no reachable bulk port; nothing was sent to the sink
     * @throws AgentException as {@link AgentClient#pullLayer} does
     */
    String pull(String runId, LayerHeader layer, long offset, AgentClient.ByteSink sink, Duration deadline)
            throws Unavailable, AgentException {
        if (unavailable != null) {
            throw new Unavailable(unavailable);
        }
        Connection c = idleFor(runId);
        if (c == null) {
            c = open(runId);
        }
        boolean reusable = false;
        try {
            String sha;
            try {
                sha = c.pull(layer, offset, sink, deadline);
            } catch (Stale e) {
                // A kept connection the agent had closed meanwhile (idle too long, or restarted):
                // nothing of the layer came, so a fresh one asks again.
                c.close();
                c = open(runId);
                sha = c.pull(layer, offset, sink, deadline);
            }
            reusable = true;
            return sha;
        } catch (Stale e) {
            throw new AgentException(
                    AgentException.Code.UNAVAILABLE,
                    "cannot reach device at " + target + ": a new bulk connection closed before answering ("
                            + OneLine.ofRootCause(e.getCause()) + ")",
                    e.getCause());
        } catch (Refused r) {
            reusable = r.keepsConnection;
            throw r.failure;
        } finally {
            if (reusable) {
                release(c);
            } else {
                c.close();
            }
        }
    }

    private synchronized Connection idleFor(String runId) {
        long now = System.nanoTime();
        for (var it = idle.iterator(); it.hasNext(); ) {
            Connection c = it.next();
            if (now - c.idleSince > MAX_IDLE_TIME.toNanos()) {
                // The agent closes connections idle for 120 s; this one would likely be gone.
                it.remove();
                c.close();
            } else if (c.runId.equals(runId)) {
                it.remove();
                return c;
            }
        }
        return null;
    }

    private synchronized void release(Connection c) {
        if (closed) {
            c.close();
            return;
        }
        c.idleSince = System.nanoTime();
        idle.addFirst(c);
        while (idle.size() > MAX_IDLE) {
            idle.removeLast().close();
        }
    }

    private Connection open(String runId) throws Unavailable, AgentException {
        BulkPullTicket ticket;
        try {
            ticket = tickets.open(runId);
        } catch (AgentException e) {
            if (e.status() == Status.Code.FAILED_PRECONDITION || e.status() == Status.Code.UNIMPLEMENTED) {
                throw giveUp("the agent serves no bulk port");
            }
            throw e;
        }
        if (ticket.getTicket().size() != BulkProtocol.TICKET_BYTES
                || ticket.getPort() < 1
                || ticket.getPort() > 65535) {
            throw AgentException.brokenProtocol(
                    target,
                    "OpenBulkPull protocol",
                    "a ticket of " + ticket.getTicket().size() + " bytes for port " + ticket.getPort());
        }
        int to = port != 0 ? port : ticket.getPort();
        String where = (host.contains(":") ? "[" + host + "]" : host) + ":" + to;
        Connection c;
        try {
            c = tls == null
                    ? Connection.plaintext(runId, target, host, to)
                    : Connection.tls(runId, target, host, to, tls);
        } catch (IOException e) {
            unreachable = true;
            throw giveUp("its bulk port " + where + " cannot be reached (" + OneLine.ofRootCause(e) + ")"
                    + (port != 0
                            ? ""
                            : "; where the agent is reached through a forwarded port, forward its --bulk-port"
                                    + " too (pull --bulk-port N names a port that maps to it)"));
        }
        try {
            byte[] hello = new byte[BulkProtocol.HELLO_BYTES];
            System.arraycopy(BulkProtocol.MAGIC, 0, hello, 0, BulkProtocol.MAGIC.length);
            ticket.getTicket().copyTo(hello, BulkProtocol.MAGIC.length);
            c.out.write(ByteBuffer.wrap(hello));
        } catch (IOException e) {
            c.close();
            throw new AgentException(
                    AgentException.Code.UNAVAILABLE,
                    "cannot reach device at " + target + ": its bulk port " + where + " dropped the connection ("
                            + OneLine.ofRootCause(e) + ")",
                    e);
        }
        return c;
    }

    private Unavailable giveUp(String why) {
        unavailable = "pulled over gRPC: " + why;
        return new Unavailable(unavailable);
    }

    /** Closes the idle connections. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        while (!idle.isEmpty()) {
            idle.removeFirst().close();
        }
    }

    /**
     * A context that trusts the certificates in {@code ca} (PEM), as the gRPC channel's does.
     *
     * @throws AgentException BAD_CREDENTIALS when the file holds no usable certificate
     */
    static SSLContext trusting(Path ca) throws AgentException {
        try (InputStream in = Files.newInputStream(ca)) {
            KeyStore keys = KeyStore.getInstance(KeyStore.getDefaultType());
            keys.load(null, null);
            int i = 0;
            for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                keys.setCertificateEntry("ca-" + i++, cert);
            }
            if (i == 0) {
                throw new GeneralSecurityException("no certificate in the file");
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(keys);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new AgentException(
                    AgentException.Code.BAD_CREDENTIALS,
                    "cannot use --tls-ca " + ca + " (PEM certificates expected): " + OneLine.ofRootCause(e),
                    e);
        }
    }

    /** An agent's error answer, and whether the connection can serve the next request. */
    private static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        final transient AgentException failure;
        final boolean keepsConnection;

        Refused(AgentException failure, boolean keepsConnection) {
            super(failure.getMessage(), failure, false, false);
            this.failure = failure;
            this.keepsConnection = keepsConnection;
        }
    }

    /** One bulk connection, admitted to one run. */
    private static final class Connection {
        final String runId;
        final String target;
        final String where;
        final AutoCloseable socket;
        final ReadableByteChannel in;
        final WritableByteChannel out;
        final ByteBuffer buffer;
        /** Layers this connection has answered. */
        int served;
        /** When it was last put aside, {@link System#nanoTime()}. */
        long idleSince;

        private Connection(
                String runId,
                String target,
                String where,
                AutoCloseable socket,
                ReadableByteChannel in,
                WritableByteChannel out,
                ByteBuffer buffer) {
            this.runId = runId;
            this.target = target;
            this.where = where;
            this.socket = socket;
            this.in = in;
            this.out = out;
            this.buffer = buffer;
        }

        static Connection plaintext(String runId, String target, String host, int port) throws IOException {
            SocketChannel ch = SocketChannel.open();
            try {
                ch.socket().connect(new InetSocketAddress(host, port), (int) CONNECT_TIMEOUT.toMillis());
                ch.socket().setTcpNoDelay(true);
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
            return new Connection(runId, target, host + ":" + port, ch, ch, ch, ByteBuffer.allocateDirect(READ_BYTES));
        }

        static Connection tls(String runId, String target, String host, int port, SSLContext context)
                throws IOException {
            Socket raw = new Socket();
            try {
                raw.connect(new InetSocketAddress(host, port), (int) CONNECT_TIMEOUT.toMillis());
                raw.setTcpNoDelay(true);
                SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(raw, host, port, true);
                // The agent's certificate must name the host, as gRPC checks it for the channel.
                SSLParameters p = s.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                s.setSSLParameters(p);
                // A port that accepts but never answers the handshake must not hang the pull.
                s.setSoTimeout((int) CONNECT_TIMEOUT.toMillis());
                s.startHandshake();
                s.setSoTimeout(0);
                InputStream sin = s.getInputStream();
                OutputStream sout = s.getOutputStream();
                return new Connection(
                        runId,
                        target,
                        host + ":" + port,
                        s,
                        Channels.newChannel(sin),
                        Channels.newChannel(sout),
                        ByteBuffer.allocate(READ_BYTES));
            } catch (IOException | RuntimeException e) {
                raw.close();
                throw e;
            }
        }

        /** Requests the layer and hands its bytes to the sink; a Refused carries the agent's error answer. */
        String pull(LayerHeader layer, long offset, AgentClient.ByteSink sink, Duration deadline)
                throws Refused, Stale, AgentException {
            AtomicBoolean expired = new AtomicBoolean();
            ScheduledFuture<?> timer = DEADLINES.schedule(
                    () -> {
                        expired.set(true);
                        close();
                    },
                    deadline.toMillis(),
                    TimeUnit.MILLISECONDS);
            long got = 0;
            long size = layer.getSizeBytes() - offset;
            try {
                ByteBuffer request = ByteBuffer.allocate(BulkProtocol.REQUEST_BYTES);
                request.putInt(layer.getIndex()).putLong(offset).flip();
                try {
                    while (request.hasRemaining()) {
                        out.write(request);
                    }
                    buffer.clear().limit(1);
                    fill();
                } catch (IOException e) {
                    if (served > 0 && !expired.get() && !(e instanceof ClosedByInterruptException)) {
                        throw new Stale(e);
                    }
                    throw e;
                }
                served++;
                int status = buffer.get(0) & 0xff;
                if (status != BulkProtocol.OK) {
                    buffer.clear().limit(2);
                    fill();
                    int n = buffer.getShort(0) & 0xffff;
                    byte[] d = new byte[n];
                    ByteBuffer db = ByteBuffer.wrap(d);
                    while (db.hasRemaining()) {
                        if (in.read(db) < 0) {
                            throw new EOFException("the agent closed the connection");
                        }
                    }
                    Status s = Status.fromCodeValue(status).withDescription(new String(d, StandardCharsets.UTF_8));
                    throw new Refused(
                            AgentException.fromStatus(s.asRuntimeException(), target, "PullDump", deadline),
                            s.getCode() != Status.Code.UNAUTHENTICATED && s.getCode() != Status.Code.INVALID_ARGUMENT);
                }
                buffer.clear().limit(BulkProtocol.OK_HEADER_BYTES - 1);
                fill();
                long length = buffer.getLong(0);
                byte[] sha = new byte[BulkProtocol.SHA256_HEX_BYTES];
                buffer.get(8, sha);
                if (length != size) {
                    throw AgentException.brokenProtocol(
                            target,
                            "bulk protocol for " + WireTensors.describe(layer),
                            length + " bytes from offset " + offset + " of a layer of " + layer.getSizeBytes());
                }
                while (got < size) {
                    buffer.clear();
                    if (size - got < buffer.capacity()) {
                        buffer.limit((int) (size - got));
                    }
                    int n = in.read(buffer);
                    if (n < 0) {
                        throw new EOFException("the agent closed the connection");
                    }
                    buffer.flip();
                    got += n;
                    try {
                        sink.write(buffer);
                    } catch (IOException | RuntimeException e) {
                        throw new SinkFailure(e);
                    }
                }
                return new String(sha, StandardCharsets.US_ASCII);
            } catch (SinkFailure e) {
                throw new AgentException(
                        AgentException.Code.SINK,
                        "writing " + WireTensors.describe(layer) + " pulled from " + target + " failed: "
                                + OneLine.ofRootCause(e.getCause()),
                        e.getCause());
            } catch (ClosedByInterruptException e) {
                Thread.currentThread().interrupt();
                throw new AgentException(AgentException.Code.CANCELLED, "PullDump from " + target + " interrupted", e);
            } catch (IOException e) {
                if (expired.get()) {
                    throw new AgentException(
                            AgentException.Code.DEADLINE_EXCEEDED,
                            "device at " + target + " did not finish PullDump within " + AgentException.human(deadline)
                                    + " (deadline exceeded)",
                            e);
                }
                throw new AgentException(
                        AgentException.Code.UNAVAILABLE,
                        "cannot reach device at " + target + ": the bulk connection to " + where + " ended after " + got
                                + " of " + size + " bytes of " + WireTensors.describe(layer) + " ("
                                + OneLine.ofRootCause(e) + ")",
                        e);
            } finally {
                timer.cancel(false);
            }
        }

        /** Reads until the buffer's limit. */
        private void fill() throws IOException {
            while (buffer.hasRemaining()) {
                if (in.read(buffer) < 0) {
                    throw new EOFException("the agent closed the connection");
                }
            }
        }

        void close() {
            try {
                socket.close();
            } catch (Exception e) {
                // closing is best effort: the connection is dropped either way
            }
        }
    }

    /** A kept connection that failed before its answer began: the agent had closed it. */
    private static final class Stale extends Exception {
        private static final long serialVersionUID = 1L;

        Stale(IOException cause) {
            super(cause);
        }
    }

    /** The sink failed, as opposed to the connection. */
    private static final class SinkFailure extends IOException {
        private static final long serialVersionUID = 1L;

        SinkFailure(Exception cause) {
            super(cause);
        }
    }
}
