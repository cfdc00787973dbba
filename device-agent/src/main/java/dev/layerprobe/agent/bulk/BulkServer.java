package dev.layerprobe.agent.bulk;

import dev.layerprobe.agent.service.StatusMapper;
import dev.layerprobe.agent.service.StoredLayers;
import dev.layerprobe.agent.store.RunStore;
import io.grpc.Status;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.stream.ChunkedNioFile;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The agent's bulk port: serves stored runs' layers to connections that present a ticket from
 * {@code OpenBulkPull} ({@link BulkTickets}), in {@link BulkProtocol}'s format.
 *
 * <p>Why a port beside gRPC: a layer pulled over gRPC goes out as HTTP/2 DATA frames of 16 KiB
 * inside gRPC messages, which on a 2-core machine cost about twice the CPU per byte of a plain
 * socket copy even with no copy in user space (README, {@code bench transfer}). Here a layer's bytes
 * are read from its file in {@link #PIECE_BYTES} pieces and written to the socket as they are (under
 * TLS, encrypted), as a plain socket copy does. Not {@code sendfile}: on one of the two machines
 * measured (README, {@code bench transfer}) it was 2.6 times the socket copy, on the other 0.7 of
 * it, where these pieces reached 0.89 to 0.97 of it at three quarters of sendfile's CPU per byte.
 * gRPC keeps everything else: access checks, run listings, errors, and pulls when this port is off
 * or unreachable.
 *
 * <p>One event-loop thread serves every connection; per connection one request at a time, in the
 * order they came, the next read from the socket only when few are waiting (bounded memory whatever
 * a client sends). A connection that has not presented a valid ticket within
 * {@link #HELLO_SECONDS}, or that moves no byte either way for {@link #IDLE_SECONDS}, is closed. A
 * client that closes its connection cancels the layer in flight; its file is closed.
 */
// Netty's futures: a failed write closes the connection (the listener on each layer's body, the
// pipeline's exceptionCaught), and closing is best effort; nothing waits on the others.
@SuppressWarnings("FutureReturnValueIgnored")
public final class BulkServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(BulkServer.class.getName());
    static final int HELLO_SECONDS = 10;
    static final int IDLE_SECONDS = 120;
    /** Requests read ahead of the one being answered before the connection stops reading. */
    static final int MAX_QUEUED = 64;
    /** Pieces a layer is read (and under TLS encrypted) in. */
    static final int PIECE_BYTES = 1 << 20;

    private final EventLoopGroup group;
    private final Channel listener;
    private final BulkTickets tickets;

    private BulkServer(EventLoopGroup group, Channel listener, BulkTickets tickets) {
        this.group = group;
        this.listener = listener;
        this.tickets = tickets;
    }

    /**
     * Listens on {@code address:port} (0: any free port) and starts admitting the tickets of
     * {@code tickets}.
     *
     * @param tls the server's TLS context, or null for plaintext
     * @throws IOException when the port cannot be bound, with a message naming it
     */
    public static BulkServer start(InetAddress address, int port, SslContext tls, RunStore runs, BulkTickets tickets)
            throws IOException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                1, new DefaultThreadFactory("layerprobe-bulk", true), NioIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline()
                                .addLast(
                                        // Output that moves counts as activity: a large layer over a
                                        // slow link is not idle.
                                        new IdleStateHandler(true, 0, 0, IDLE_SECONDS, TimeUnit.SECONDS),
                                        new ChunkedWriteHandler(),
                                        new Connection(runs, tickets));
                    }
                });
        try {
            Channel listener =
                    b.bind(new InetSocketAddress(address, port)).sync().channel();
            BulkServer server = new BulkServer(group, listener, tickets);
            tickets.serving(server.port());
            return server;
        } catch (Exception e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            BindException bind = new BindException("cannot listen for bulk pulls on " + address.getHostAddress() + ":"
                    + port + ": " + why + " (--bulk-port N chooses another port, --bulk-port off none)");
            bind.initCause(e);
            throw bind;
        }
    }

    /** The port it listens on. */
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Stops listening, voids the outstanding tickets and closes every connection. Idempotent. */
    @Override
    public void close() {
        tickets.stopped();
        listener.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    /** One bulk connection: its opening, then its requests, answered one at a time. */
    private static final class Connection extends ByteToMessageDecoder {
        private record Request(int layer, long offset) {}

        private final RunStore runs;
        private final BulkTickets tickets;
        private final ArrayDeque<Request> requests = new ArrayDeque<>();
        private String runId;
        private boolean busy;
        private boolean closing;
        private ScheduledFuture<?> helloTimeout;

        Connection(RunStore runs, BulkTickets tickets) {
            this.runs = runs;
            this.tickets = tickets;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            helloTimeout = ctx.executor()
                    .schedule(
                            () -> {
                                if (runId == null) {
                                    ctx.close();
                                }
                            },
                            HELLO_SECONDS,
                            TimeUnit.SECONDS);
        }

        @Override
        protected void handlerRemoved0(ChannelHandlerContext ctx) {
            helloTimeout.cancel(false);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            if (closing) {
                in.skipBytes(in.readableBytes());
                return;
            }
            if (runId == null) {
                if (in.readableBytes() < BulkProtocol.MAGIC.length) {
                    return;
                }
                // Told as soon as the first bytes show it, not after the opening's timeout.
                byte[] magic = new byte[BulkProtocol.MAGIC.length];
                in.getBytes(in.readerIndex(), magic);
                if (!Arrays.equals(magic, BulkProtocol.MAGIC)) {
                    refuse(
                            ctx,
                            Status.Code.INVALID_ARGUMENT,
                            "not a LayerProbe bulk connection: it must open with"
                                    + " 'LPB1' and a ticket from OpenBulkPull (gRPC calls go to the agent's --port)");
                    return;
                }
                if (in.readableBytes() < BulkProtocol.HELLO_BYTES) {
                    return;
                }
                in.skipBytes(BulkProtocol.MAGIC.length);
                byte[] ticket = new byte[BulkProtocol.TICKET_BYTES];
                in.readBytes(ticket);
                runId = tickets.redeem(ticket);
                if (runId == null) {
                    refuse(
                            ctx,
                            Status.Code.UNAUTHENTICATED,
                            "unknown, used or expired bulk ticket; OpenBulkPull gives a new one");
                    return;
                }
                helloTimeout.cancel(false);
            }
            while (in.readableBytes() >= BulkProtocol.REQUEST_BYTES) {
                requests.add(new Request(in.readInt(), in.readLong()));
            }
            if (requests.size() > MAX_QUEUED) {
                ctx.channel().config().setAutoRead(false);
            }
            serveNext(ctx);
        }

        /** Answers the next request unless one is being answered. */
        private void serveNext(ChannelHandlerContext ctx) {
            while (!busy && !closing) {
                Request r = requests.poll();
                if (r == null) {
                    ctx.channel().config().setAutoRead(true);
                    return;
                }
                StoredLayers.Opened opened;
                try {
                    opened = StoredLayers.open(runs, runId, r.layer(), r.offset());
                } catch (Exception e) {
                    Status s = StatusMapper.toStatus(e);
                    ctx.writeAndFlush(error(ctx, s.getCode(), s.getDescription()));
                    continue;
                }
                busy = true;
                send(ctx, r, opened);
            }
        }

        private void send(ChannelHandlerContext ctx, Request r, StoredLayers.Opened opened) {
            long size = opened.layer().getHeader().getSizeBytes();
            String sha = opened.layer().getSha256();
            Object body;
            try {
                if (opened.file().size() < size) {
                    throw new IOException(
                            "stored layer '" + opened.layer().getHeader().getName() + "' has "
                                    + opened.file().size() + " of its " + size + " bytes on disk");
                }
                if (sha.length() != BulkProtocol.SHA256_HEX_BYTES) {
                    throw new IOException(
                            "stored layer '" + opened.layer().getHeader().getName() + "' has no sha256 on record");
                }
                long n = size - r.offset();
                if (n == 0) {
                    opened.file().close();
                    body = Unpooled.EMPTY_BUFFER;
                } else {
                    body = new ChunkedNioFile(opened.file(), r.offset(), n, PIECE_BYTES);
                }
            } catch (IOException e) {
                close(opened);
                LOG.log(Level.WARNING, "bulk pull of a stored layer failed", e);
                busy = false;
                ctx.writeAndFlush(error(ctx, Status.Code.INTERNAL, e.getMessage()));
                return;
            }
            ByteBuf head = ctx.alloc().buffer(BulkProtocol.OK_HEADER_BYTES);
            head.writeByte(BulkProtocol.OK);
            head.writeLong(size - r.offset());
            head.writeCharSequence(sha, StandardCharsets.US_ASCII);
            ctx.write(head);
            ctx.writeAndFlush(body).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    busy = false;
                    serveNext(ctx);
                } else {
                    // The client went away or the file failed mid-layer: the answer cannot be mended.
                    LOG.log(Level.FINE, "bulk pull ended early", f.cause());
                    ctx.close();
                }
            });
        }

        private static void close(StoredLayers.Opened opened) {
            try {
                opened.file().close();
            } catch (IOException e) {
                LOG.log(Level.FINE, "closing a stored layer failed", e);
            }
        }

        /** Answers with {@code code} and closes the connection. */
        private void refuse(ChannelHandlerContext ctx, Status.Code code, String description) {
            closing = true;
            requests.clear();
            ctx.writeAndFlush(error(ctx, code, description)).addListener(ChannelFutureListener.CLOSE);
        }

        private static ByteBuf error(ChannelHandlerContext ctx, Status.Code code, String description) {
            byte[] d = (description == null ? code.name() : description).getBytes(StandardCharsets.UTF_8);
            int n = Math.min(d.length, BulkProtocol.MAX_DESCRIPTION_BYTES);
            ByteBuf b = ctx.alloc().buffer(3 + n);
            b.writeByte(code.value());
            b.writeShort(n);
            b.writeBytes(d, 0, n);
            return b;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
            } else {
                super.userEventTriggered(ctx, evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(Level.FINE, "bulk connection failed", cause);
            ctx.close();
        }
    }
}
