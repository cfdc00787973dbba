package dev.layerprobe.agent;

import dev.layerprobe.agent.backend.Backend;
import dev.layerprobe.agent.backend.BackendProvider;
import dev.layerprobe.agent.service.DeviceAgentService;
import dev.layerprobe.agent.store.ModelStore;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.simulator.SimulatorException;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A device agent: the {@code DeviceAgent} service, {@code grpc.health.v1} and server reflection
 * (so grpcurl works) on one gRPC server. It takes a {@link ServerBuilder} so that tests hand it an
 * in-process builder; {@link #netty(AgentConfig)} builds the real one.
 *
 * <p>Lifecycle: construct, {@link #start()}, then {@link #close()} (graceful: running calls get
 * {@value #SHUTDOWN_GRACE_SECONDS} s to finish, then are cancelled). The server owns its backend,
 * its run threads and its {@link RunStore} (a temporary one is deleted on close). Thread-safe.
 */
public final class AgentServer implements AutoCloseable {
    static final long SHUTDOWN_GRACE_SECONDS = 5;

    private final AgentConfig config;
    private final Backend backend;
    private final ExecutorService runExecutor;
    private final RunStore runs;
    private final HealthStatusManager health = new HealthStatusManager();
    private final Server server;

    /** An agent with the backend named in the config. */
    public AgentServer(ServerBuilder<?> builder, AgentConfig config) throws SimulatorException, IOException {
        this(builder, config, BackendProvider.named(config.backend()).create(config.profile()));
    }

    /** An agent over a given backend, which it closes when it closes. */
    public AgentServer(ServerBuilder<?> builder, AgentConfig config, Backend backend) throws IOException {
        this.config = config;
        this.backend = backend;
        this.runExecutor = Executors.newFixedThreadPool(config.maxConcurrentRuns(), runThreads());
        ModelStore store = config.modelDir() == null ? new ModelStore() : new ModelStore(config.modelDir());
        this.runs = config.runDir() == null ? RunStore.temporary(config.runRetention())
                : RunStore.open(config.runDir(), config.runRetention());
        DeviceAgentService service = new DeviceAgentService(backend, store, runs, config.maxModelBytes(),
                config.maxConcurrentRuns(), runExecutor);
        this.server = builder.maxInboundMessageSize(config.maxInboundMessageBytes())
                .callExecutor(AgentServer::callExecutor)
                .addService(service)
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .build();
    }

    /**
     * PullDump's handlers run on the transport's own thread: they only read a chunk of a file the
     * page cache usually holds and queue it, and a hand-off to another thread per chunk cost more
     * than that (about 15% of the throughput on loopback). Every other call keeps the server's
     * executor (null), since RunLayer and uploads may block for long.
     */
    private static <ReqT, RespT> Executor callExecutor(ServerCall<ReqT, RespT> call, Metadata headers) {
        return call.getMethodDescriptor().getFullMethodName().equals(
                DeviceAgentGrpc.getPullDumpMethod().getFullMethodName()) ? Runnable::run : null;
    }

    /**
     * An agent listening on {@code config.bindHost():config.port()} over Netty.
     *
     * @throws IllegalArgumentException if the address is not a loopback one and {@code insecure} is not set
     */
    public static AgentServer netty(AgentConfig config) throws SimulatorException, IOException {
        InetAddress address = resolve(config.bindHost());
        if (!address.isLoopbackAddress() && !config.insecure()) {
            // Anyone who can reach the port could upload and run models; until tokens exist, exposing
            // the agent must be a deliberate choice.
            throw new IllegalArgumentException("refusing to listen on non-loopback address " + config.bindHost()
                    + " without authentication; pass --insecure to allow it");
        }
        return new AgentServer(NettyServerBuilder.forAddress(new InetSocketAddress(address, config.port())), config);
    }

    private static InetAddress resolve(String host) {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve bind address '" + host + "'", e);
        }
    }

    public AgentServer start() throws IOException {
        server.start();
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus(DeviceAgentGrpc.SERVICE_NAME, ServingStatus.SERVING);
        return this;
    }

    /** The port the server listens on: the actual one when the config asked for port 0; -1 if in-process. */
    public int port() {
        return server.getPort();
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

    /** Stops accepting calls, gives running calls a grace period, then cancels them. Idempotent. */
    @Override
    public void close() {
        health.enterTerminalState();
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
            backend.close();
            runs.close();
        }
    }

    private static ThreadFactory runThreads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "layerprobe-run-" + n.incrementAndGet());
            // A stuck model must not keep the JVM alive after the server is closed.
            t.setDaemon(true);
            return t;
        };
    }
}
