package dev.layerprobe.agent;

import dev.layerprobe.agent.access.BearerTokenInterceptor;
import dev.layerprobe.agent.access.DefaultDeadlineInterceptor;
import dev.layerprobe.agent.access.RequestParsing;
import dev.layerprobe.agent.access.TokenFile;
import dev.layerprobe.agent.backend.Backend;
import dev.layerprobe.agent.backend.BackendProvider;
import dev.layerprobe.agent.backend.SimBackend;
import dev.layerprobe.agent.bulk.BulkServer;
import dev.layerprobe.agent.bulk.BulkTickets;
import dev.layerprobe.agent.service.DeviceAgentService;
import dev.layerprobe.agent.store.ModelStore;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.OneLine;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.simulator.profile.DeviceProfile;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * A device agent: the {@code DeviceAgent} service, {@code grpc.health.v1} and server reflection
 * (so grpcurl works) on one gRPC server. It takes a {@link ServerBuilder} so that tests hand it an
 * in-process builder; {@link #netty(AgentConfig)} builds the real one.
 *
 * <p>Access (docs/architecture.md#wire-protocol): with a token file, every call but health checks must carry the bearer
 * token ({@link BearerTokenInterceptor}); other calls without a deadline get the config's default
 * one ({@link DefaultDeadlineInterceptor}); request messages that do not parse get INVALID_ARGUMENT
 * ({@link RequestParsing}); {@link #netty} adds TLS and refuses to expose an
 * unauthenticated agent on a non-loopback address unless told {@code insecure}.
 *
 * <p>Lifecycle: construct, {@link #start()}, then {@link #close()} (graceful: running calls get
 * {@value #SHUTDOWN_GRACE_SECONDS} s to finish, then are cancelled). The server owns its backend,
 * its run threads and its {@link RunStore} (a temporary one is deleted on close). Thread-safe.
 */
public final class AgentServer implements AutoCloseable {
    static final long SHUTDOWN_GRACE_SECONDS = 5;

    /**
     * How much a connection may hold written but not yet taken by the socket: at most 2 MiB, and
     * writable again below 1 MiB. HTTP/2's flow controller writes no more per go than the channel
     * can take before it turns unwritable, so with Netty's defaults (64 KiB, 32 KiB) a dump stream
     * went out in writes of about 40 KiB as the socket drained (26,000 {@code writev} calls per GiB
     * pulled over loopback, against about 1,000 with these). The cost is latency: a reply queued behind a
     * stream waits for up to 2 MiB to go out (60 ms at 35 MB/s over USB).
     */
    static final WriteBufferWaterMark WRITE_BUFFER = new WriteBufferWaterMark(1 << 20, 2 << 20);

    private final AgentConfig config;
    private final Backend backend;
    private final ExecutorService runExecutor;
    private final RunStore runs;
    private final HealthStatusManager health = new HealthStatusManager();
    private final AtomicBoolean healthStopped = new AtomicBoolean();
    private final ScheduledExecutorService deadlineTimer;
    private final Server server;
    private final BulkTickets bulkTickets = new BulkTickets();
    /** How {@link #start()} opens the bulk port; null for none (an in-process agent, or --bulk-port off). */
    private BulkSetup bulkSetup;

    private BulkServer bulk;

    private record BulkSetup(InetAddress address, int port, SslContext tls) {}

    /**
     * An agent with the backend named in the config, created once the token file has been read, so
     * that a setup the agent refuses never loads a backend's runtime.
     *
     * @throws AgentSetupException when the config's token file cannot be used or no backend has its name
     * @throws LayerProbeException when the backend cannot be created
     */
    public AgentServer(ServerBuilder<?> builder, AgentConfig config)
            throws LayerProbeException, IOException, AgentSetupException {
        // Arguments are evaluated left to right: the token before the backend.
        this(builder, config, token(config), backend(config));
    }

    /**
     * An agent over a given backend, which it closes when it closes.
     *
     * @throws AgentSetupException when the config's token file cannot be used
     */
    public AgentServer(ServerBuilder<?> builder, AgentConfig config, Backend backend)
            throws IOException, AgentSetupException {
        this(builder, config, token(config), backend);
    }

    private AgentServer(ServerBuilder<?> builder, AgentConfig config, String token, Backend backend)
            throws IOException {
        this.config = config;
        this.backend = backend;
        this.runExecutor = Executors.newFixedThreadPool(config.maxConcurrentRuns(), daemonThreads("layerprobe-run-"));
        this.deadlineTimer = Executors.newSingleThreadScheduledExecutor(daemonThreads("layerprobe-deadline-"));
        ModelStore store = config.modelDir() == null ? new ModelStore() : new ModelStore(config.modelDir());
        this.runs = config.runDir() == null
                ? RunStore.temporary(config.runRetention())
                : RunStore.open(config.runDir(), config.runRetention());
        DeviceAgentService service = new DeviceAgentService(
                backend,
                store,
                runs,
                config.maxModelBytes(),
                config.maxConcurrentRuns(),
                config.maxInputTensors(),
                runExecutor,
                bulkTickets);
        // Interceptors run last-listed first: authentication before anything else sees the call.
        ServerInterceptor[] access = token == null
                ? new ServerInterceptor[] {new DefaultDeadlineInterceptor(config.defaultDeadline(), deadlineTimer)}
                : new ServerInterceptor[] {
                    new DefaultDeadlineInterceptor(config.defaultDeadline(), deadlineTimer),
                    new BearerTokenInterceptor(token)
                };
        // The config caps the size at 1 GiB, so it fits gRPC's int.
        this.server = builder.maxInboundMessageSize((int) config.maxInboundMessageBytes())
                .addService(guarded(RequestParsing.of(service.definition()), access))
                // Health is open to probes without a token, and its Watch stream is meant to stay
                // open, so neither the token nor the default deadline applies to it.
                .addService(health.getHealthService())
                .addService(guarded(ProtoReflectionServiceV1.newInstance().bindService(), access))
                .build();
    }

    private static String token(AgentConfig config) throws AgentSetupException {
        if (config.tokenFile() == null) {
            return null;
        }
        try {
            return TokenFile.read(config.tokenFile());
        } catch (TokenFile.InvalidTokenFileException e) {
            throw new AgentSetupException(e.getMessage());
        }
    }

    private static Backend backend(AgentConfig config) throws LayerProbeException, AgentSetupException {
        BackendProvider provider;
        try {
            provider = BackendProvider.named(config.backend());
        } catch (IllegalArgumentException e) {
            throw new AgentSetupException(e.getMessage(), e);
        }
        return provider.create(config.profile(), config.backendConfig(), config.executionProviders());
    }

    private static ServerServiceDefinition guarded(ServerServiceDefinition service, ServerInterceptor[] access) {
        return ServerInterceptors.intercept(service, access);
    }

    /**
     * An agent listening on {@code config.bindHost():config.port()} over Netty, with TLS when the
     * config has a certificate and key.
     *
     * @throws AgentSetupException if the address is not a loopback one and the config has neither a
     *     token file nor {@code insecure}, the TLS or token files cannot be used, or no backend has
     *     the config's name; checked in this order, before the backend is created
     */
    public static AgentServer netty(AgentConfig config) throws LayerProbeException, IOException, AgentSetupException {
        InetAddress address = resolve(config.bindHost());
        if (!address.isLoopbackAddress() && !config.authenticated() && !config.insecure()) {
            // Anyone who can reach the port could upload and run models: exposing an agent that
            // asks for nothing must be a deliberate choice.
            throw new AgentSetupException("refusing to listen on " + config.bindHost() + ", not a loopback address,"
                    + " without authentication: pass --token-file FILE (with --tls-cert/--tls-key to encrypt),"
                    + " or --insecure to let anyone who reaches the port use the agent");
        }
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(address, config.port()))
                .withChildOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WRITE_BUFFER);
        SslContext bulkTls = null;
        if (config.tls()) {
            builder.sslContext(serverTls(config));
            bulkTls = bulkTls(config);
        }
        AgentServer agent = new AgentServer(builder, config);
        if (config.bulkPort() != AgentConfig.BULK_OFF) {
            agent.bulkSetup = new BulkSetup(address, config.bulkPort(), bulkTls);
        }
        return agent;
    }

    /** The bulk port's TLS: the same certificate and key, without gRPC's ALPN. */
    private static SslContext bulkTls(AgentConfig config) throws AgentSetupException {
        try {
            return SslContextBuilder.forServer(
                            config.tlsCert().toFile(), config.tlsKey().toFile())
                    .build();
        } catch (IOException | IllegalArgumentException e) {
            throw new AgentSetupException(
                    "cannot use --tls-cert " + config.tlsCert() + " and --tls-key " + config.tlsKey() + ": "
                            + OneLine.ofRootCause(e),
                    e);
        }
    }

    private static SslContext serverTls(AgentConfig config) throws AgentSetupException {
        for (Path f : new Path[] {config.tlsCert(), config.tlsKey()}) {
            if (!Files.isReadable(f)) {
                throw new AgentSetupException("cannot read TLS file " + f);
            }
        }
        try {
            return GrpcSslContexts.forServer(
                            config.tlsCert().toFile(), config.tlsKey().toFile())
                    .build();
        } catch (IOException | IllegalArgumentException e) {
            throw new AgentSetupException(
                    "cannot use --tls-cert " + config.tlsCert() + " and --tls-key "
                            + config.tlsKey() + " (PEM certificate chain and unencrypted PKCS#8 PEM key expected): "
                            + OneLine.ofRootCause(e),
                    e);
        }
    }

    private static InetAddress resolve(String host) throws AgentSetupException {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new AgentSetupException("cannot resolve bind address '" + host + "'", e);
        }
    }

    /**
     * One line for the console: {@code LayerProbe agent listening on HOST:PORT (backend sim, profile
     * NAME, faults: ...; token required, TLS)}; a backend that emulates no profile shows its device.
     */
    public String banner() {
        return banner(config, port(), backend.profile().isPresent() ? null : backend.device());
    }

    /** The banner before a backend exists: the profile for the emulated device, else the backend alone. */
    static String banner(AgentConfig config, int port) {
        return banner(config, port, null);
    }

    private static String banner(AgentConfig config, int port, String device) {
        String what;
        if (config.backend().equals(SimBackend.NAME)) {
            DeviceProfile p = config.profile();
            String faults = p.faults().isEmpty()
                    ? "none"
                    : p.faults().stream()
                            .map(f -> f.kind().yamlName() + " on " + f.target())
                            .collect(Collectors.joining(", "));
            what = "profile " + p.name() + ", faults: " + faults;
        } else {
            what = device == null ? "" : device;
        }
        return "LayerProbe agent listening on " + config.bindHost() + ":" + port + " (backend " + config.backend()
                + (what.isEmpty() ? "" : ", " + what) + "; " + (config.authenticated() ? "token required" : "no token")
                + ", " + (config.tls() ? "TLS" : "plaintext") + ")";
    }

    /**
     * Starts serving: the gRPC port, then the bulk port if the agent has one.
     *
     * @throws IOException when a port cannot be bound; nothing is left listening
     */
    public AgentServer start() throws IOException {
        server.start();
        if (bulkSetup != null) {
            try {
                bulk = BulkServer.start(bulkSetup.address(), bulkSetup.port(), bulkSetup.tls(), runs, bulkTickets);
            } catch (IOException e) {
                server.shutdownNow();
                throw e;
            }
        }
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus(DeviceAgentGrpc.SERVICE_NAME, ServingStatus.SERVING);
        return this;
    }

    /** The port the server listens on: the actual one when the config asked for port 0; -1 if in-process. */
    public int port() {
        return server.getPort();
    }

    /** The bulk port it listens on (the actual one when the config asked for 0); -1 when it serves none. */
    public int bulkPort() {
        return bulk == null ? -1 : bulk.port();
    }

    public AgentConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /** Where the agent stores its runs. */
    public RunStore runs() {
        return runs;
    }

    /** Blocks until the server has shut down. */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /**
     * Stops at once: reports NOT_SERVING, cancels every running call and refuses new ones, as a
     * crashed agent or a board that drops off the network looks to its clients. {@link #close()}
     * still releases the rest.
     */
    public void shutdownNow() {
        stopHealth();
        closeBulk();
        server.shutdownNow();
    }

    /** Stops accepting calls, gives running calls a grace period, then cancels them. Idempotent. */
    @Override
    public void close() {
        stopHealth();
        closeBulk();
        server.shutdown();
        try {
            if (!server.awaitTermination(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS)) {
                // Cancelling the calls makes each run's next layer callback abort the run.
                server.shutdownNow();
                server.awaitTermination(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        } finally {
            runExecutor.shutdownNow();
            deadlineTimer.shutdownNow();
            backend.close();
            runs.close();
        }
    }

    private void closeBulk() {
        if (bulk != null) {
            bulk.close();
        }
    }

    /** NOT_SERVING for good; once, since the health service warns when told twice. */
    private void stopHealth() {
        if (healthStopped.compareAndSet(false, true)) {
            health.enterTerminalState();
        }
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            // A stuck model must not keep the JVM alive after the server is closed.
            t.setDaemon(true);
            return t;
        };
    }
}
