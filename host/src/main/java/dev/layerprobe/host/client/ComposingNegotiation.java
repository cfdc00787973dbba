package dev.layerprobe.host.client;

import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalNettyChannelBuilder;
import io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.ChannelHandler;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.util.AsciiString;

/**
 * The client's connection setup (plaintext, or TLS with a given context) with one change: the
 * HTTP/2 decoder keeps the bytes it has received but not yet decoded as a list of the received
 * buffers ({@link ByteToMessageDecoder#COMPOSITE_CUMULATOR}) instead of copying them into one.
 *
 * <p>Why: socket reads (up to 256 KiB, {@link AgentChannels}) almost never end on an HTTP/2 frame
 * boundary, so nearly every read leaves part of a frame behind. Netty's default cumulator then
 * copies the next whole read behind that part, and because gRPC still holds slices of the buffer
 * (the frames of the message being assembled) it copies into a fresh buffer: a dump stream was
 * copied once more in user space on the host than it needs to be, on top of the kernel's copy out
 * of the socket. Composed, a DATA frame's payload is a slice of the buffers the socket was read
 * into, which {@link dev.layerprobe.host.client.wire.InPlaceParser} then parses in place, so pulled
 * bytes reach the sink as they came out of the kernel. gRPC's public builder has no setting for the
 * cumulator; its negotiators are reached through its {@code Internal*} classes, which it keeps for
 * such uses, and everything else about the negotiation is gRPC's own.
 *
 * <p>Stateless.
 */
final class ComposingNegotiation {
    private ComposingNegotiation() {}

    /**
     * Makes {@code builder} negotiate plaintext ({@code tls == null}) or TLS with {@code tls},
     * replacing {@code usePlaintext()} and {@code sslContext(tls)}.
     */
    static NettyChannelBuilder apply(NettyChannelBuilder builder, SslContext tls) {
        InternalNettyChannelBuilder.setProtocolNegotiatorFactory(
                builder,
                () -> new Composing(
                        tls == null
                                ? InternalProtocolNegotiators.plaintext()
                                : InternalProtocolNegotiators.tls(tls, null, null)));
        return builder;
    }

    /** Delegates the negotiation, after setting the connection handler's cumulator. */
    private static final class Composing implements InternalProtocolNegotiator.ProtocolNegotiator {
        private final InternalProtocolNegotiator.ProtocolNegotiator negotiation;

        Composing(InternalProtocolNegotiator.ProtocolNegotiator negotiation) {
            this.negotiation = negotiation;
        }

        @Override
        public AsciiString scheme() {
            return negotiation.scheme();
        }

        @Override
        public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
            // Before the handler is in the pipeline, so it never reads with the copying cumulator.
            grpcHandler.setCumulator(ByteToMessageDecoder.COMPOSITE_CUMULATOR);
            return negotiation.newHandler(grpcHandler);
        }

        @Override
        public void close() {
            negotiation.close();
        }
    }
}
