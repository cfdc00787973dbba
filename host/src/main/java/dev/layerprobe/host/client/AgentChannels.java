package dev.layerprobe.host.client;

import dev.layerprobe.agent.access.TokenFile;
import dev.layerprobe.core.OneLine;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Opens the channels an {@link AgentClient} talks to an agent over: parses {@code HOST:PORT},
 * chooses plaintext or TLS, attaches the bearer token, and gives every channel the same transport
 * settings. Channels connect lazily, on their first call.
 *
 * <p>Transport: gRPC's Netty transport, on Netty's native epoll where
 * {@code netty-transport-native-epoll} loads (Linux on x86-64 and 64-bit ARM; the jars come with
 * the agent's runtime dependencies) and on Java NIO elsewhere, with gRPC's shared event loops, so a
 * channel has no threads of its own. gRPC makes that choice when it finds the native library, and
 * it is left to it: choosing here would mean owning event loops that every client then has to shut
 * down. Process-wide Netty settings are not made here ({@code NettyDefaults}, applied by the
 * programs' {@code main}). Plaintext and TLS are negotiated by gRPC's own negotiators, with the
 * HTTP/2 decoder composing the received buffers instead of copying them
 * ({@link ComposingNegotiation}).
 *
 * <p>Stateless; the returned channel belongs to the caller.
 */
final class AgentChannels {
    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private AgentChannels() {}

    /** A plaintext channel to {@code host:port} without a token. */
    static ManagedChannel plaintext(String host, int port) {
        return ComposingNegotiation.apply(transport(NettyChannelBuilder.forAddress(host, port)), null)
                .build();
    }

    /**
     * A channel to an endpoint: TLS if it names a CA, its bearer token on every call if it names a
     * token file.
     *
     * @throws AgentException with code BAD_ADDRESS when the address does not parse, BAD_CREDENTIALS
     *     when the token file or the CA file cannot be used
     */
    static ManagedChannel open(AgentEndpoint endpoint) throws AgentException {
        HostPort hp = HostPort.parse(endpoint.address());
        return secured(transport(NettyChannelBuilder.forAddress(hp.host(), hp.port())), endpoint)
                .build();
    }

    /**
     * A channel of a {@link DeviceFarm} to one agent at {@code address}, secured as {@code endpoint}
     * says, that watches the agent's {@code grpc.health.v1} status: gRPC's {@code round_robin} policy
     * with client-side health checking, so the channel reports TRANSIENT_FAILURE while the agent
     * says it is not serving as well as while it cannot be reached.
     *
     * @param authority the name the agent is known by (for TLS), or null for the address itself
     */
    static ManagedChannel healthChecked(AgentEndpoint endpoint, InetSocketAddress address, String authority)
            throws AgentException {
        // An unresolved HOST:PORT goes through gRPC's default (DNS) resolver like any channel's target.
        NettyChannelBuilder b = transport(
                address.isUnresolved()
                        ? NettyChannelBuilder.forAddress(address.getHostString(), address.getPort())
                        : NettyChannelBuilder.forAddress(address));
        if (authority != null) {
            b.overrideAuthority(authority);
        }
        return secured(b, endpoint).defaultServiceConfig(HEALTH_CHECKED).build();
    }

    /** round_robin over the channel's address(es), with the agents' overall health ("" service). */
    private static final Map<String, Object> HEALTH_CHECKED = Map.of(
            "loadBalancingConfig",
            List.of(Map.of("round_robin", Map.of())),
            "healthCheckConfig",
            Map.of("serviceName", ""));

    private static NettyChannelBuilder secured(NettyChannelBuilder b, AgentEndpoint endpoint) throws AgentException {
        ComposingNegotiation.apply(b, endpoint.tlsCa() == null ? null : trusting(endpoint.tlsCa()));
        if (endpoint.tokenFile() != null) {
            b.intercept(bearer(endpoint.tokenFile()));
        }
        return b;
    }

    /**
     * The transport settings every channel to an agent gets: the client's message size limit, a
     * flow-control window of several dump chunks ({@link AgentClient#FLOW_CONTROL_WINDOW_BYTES}),
     * and socket reads that grow up to 256 KiB while data keeps coming (Netty's default stops at
     * 64 KiB): a dump stream then costs a quarter of the read calls and wake-ups, which on loopback
     * is most of what the host spends per byte. Larger reads measured no faster and take whole
     * chunks of Netty's pool (2 MiB under gRPC), which it then frees and allocates again. Small
     * answers still get small reads.
     */
    private static NettyChannelBuilder transport(NettyChannelBuilder b) {
        return b.maxInboundMessageSize(AgentClient.MAX_INBOUND_MESSAGE_BYTES)
                .flowControlWindow(AgentClient.FLOW_CONTROL_WINDOW_BYTES)
                .withOption(
                        ChannelOption.RECVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(2048, 16 << 10, 256 << 10));
    }

    private static SslContext trusting(Path ca) throws AgentException {
        try {
            return GrpcSslContexts.forClient().trustManager(ca.toFile()).build();
        } catch (IOException | IllegalArgumentException e) {
            throw new AgentException(
                    AgentException.Code.BAD_CREDENTIALS,
                    "cannot use --tls-ca " + ca + " (PEM certificates expected): " + OneLine.ofRootCause(e),
                    e);
        }
    }

    private static ClientInterceptor bearer(Path tokenFile) throws AgentException {
        Metadata headers = new Metadata();
        try {
            headers.put(AUTHORIZATION, "Bearer " + TokenFile.read(tokenFile));
        } catch (TokenFile.InvalidTokenFileException e) {
            throw new AgentException(AgentException.Code.BAD_CREDENTIALS, e.getMessage(), e);
        }
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }

    /** A parsed {@code HOST:PORT}; IPv6 hosts come in brackets and leave without them. */
    record HostPort(String host, int port) {
        static HostPort parse(String target) throws AgentException {
            int colon = target.lastIndexOf(':');
            String host = colon <= 0 ? "" : target.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port = -1;
            try {
                port = Integer.parseInt(target.substring(colon + 1));
            } catch (NumberFormatException e) {
                // reported below with the whole address
            }
            if (host.isEmpty() || port < 1 || port > 65535) {
                throw new AgentException(
                        AgentException.Code.BAD_ADDRESS,
                        "bad device address '" + target + "', expected HOST:PORT (e.g. 127.0.0.1:50051)",
                        null);
            }
            return new HostPort(host, port);
        }
    }
}
