package dev.layerprobe.host.client;

import dev.layerprobe.agent.AgentConfig;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverRegistry;
import io.grpc.Status;
import io.grpc.StatusOr;
import io.grpc.SynchronizationContext;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Turns a {@code --device} target into the agents behind it: {@code HOST:PORT} is one agent; a
 * target with a scheme ({@code dns:///agents.ns.svc:50051}) is resolved once by gRPC's own name
 * resolver for that scheme, and every address it yields is an agent (a Kubernetes headless Service
 * yields its ready pods). Addresses come sorted, so agents are named in the same order from run to
 * run. Stateless.
 */
final class FarmTargets {
    /** One agent: where it listens, how messages name it, and the name its TLS certificate carries (or null). */
    record Resolved(InetSocketAddress address, String name, String authority) {}

    private FarmTargets() {}

    /**
     * @throws AgentException BAD_ADDRESS when the target does not parse, names an unknown scheme or
     *     resolves to no address; UNAVAILABLE when resolution fails or takes longer than {@code timeout}
     */
    static List<Resolved> resolve(AgentEndpoint endpoint, Duration timeout) throws AgentException {
        String target = endpoint.address();
        if (!target.contains(":///") && !target.contains("://")) {
            AgentChannels.HostPort hp = AgentChannels.HostPort.parse(target);
            return List.of(new Resolved(InetSocketAddress.createUnresolved(hp.host(), hp.port()), target, null));
        }
        URI uri;
        try {
            uri = new URI(target);
        } catch (URISyntaxException e) {
            throw badAddress(target, e.getMessage());
        }
        NameResolver.Args args = NameResolver.Args.newBuilder()
                .setDefaultPort(AgentConfig.DEFAULT_PORT)
                .setProxyDetector(address -> null)
                .setSynchronizationContext(new SynchronizationContext((t, e) -> {}))
                .setServiceConfigParser(new NameResolver.ServiceConfigParser() {
                    @Override
                    public NameResolver.ConfigOrError parseServiceConfig(java.util.Map<String, ?> raw) {
                        return NameResolver.ConfigOrError.fromConfig(raw);
                    }
                })
                .build();
        NameResolver resolver =
                NameResolverRegistry.getDefaultRegistry().asFactory().newNameResolver(uri, args);
        if (resolver == null) {
            throw badAddress(target, "no name resolver for scheme '" + uri.getScheme() + "'");
        }
        CompletableFuture<List<EquivalentAddressGroup>> found = new CompletableFuture<>();
        try {
            resolver.start(new NameResolver.Listener2() {
                @Override
                public void onResult(NameResolver.ResolutionResult result) {
                    StatusOr<List<EquivalentAddressGroup>> r = result.getAddressesOrError();
                    if (r.hasValue()) {
                        found.complete(r.getValue());
                    } else {
                        onError(r.getStatus());
                    }
                }

                @Override
                public void onError(Status error) {
                    found.completeExceptionally(error.asRuntimeException());
                }
            });
            List<EquivalentAddressGroup> groups = found.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<Resolved> out = new ArrayList<>();
            String authority = uri.getPath() == null ? null : uri.getPath().replaceFirst("^/", "");
            for (EquivalentAddressGroup g : groups) {
                for (SocketAddress a : g.getAddresses()) {
                    if (a instanceof InetSocketAddress in) {
                        String host = in.getAddress() == null
                                ? in.getHostString()
                                : in.getAddress().getHostAddress();
                        String name = (host.contains(":") ? "[" + host + "]" : host) + ":" + in.getPort();
                        out.add(new Resolved(in, name, authority));
                    }
                }
            }
            if (out.isEmpty()) {
                throw badAddress(target, "it resolves to no address");
            }
            out.sort(Comparator.comparing(Resolved::name));
            return out;
        } catch (ExecutionException e) {
            throw new AgentException(
                    AgentException.Code.UNAVAILABLE,
                    "cannot resolve device '" + target + "': " + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new AgentException(
                    AgentException.Code.UNAVAILABLE,
                    "cannot resolve device '" + target + "' within " + AgentException.human(timeout),
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(AgentException.Code.CANCELLED, "interrupted resolving '" + target + "'", e);
        } finally {
            resolver.shutdown();
        }
    }

    private static AgentException badAddress(String target, String why) {
        return new AgentException(
                AgentException.Code.BAD_ADDRESS,
                "bad device address '" + target + "': " + why
                        + " (expected HOST:PORT or a gRPC name such as dns:///agents:50051)",
                null);
    }
}
