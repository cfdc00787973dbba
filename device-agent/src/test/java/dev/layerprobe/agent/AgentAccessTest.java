package dev.layerprobe.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.access.BearerTokenInterceptor;
import dev.layerprobe.agent.access.TestCertificates;
import dev.layerprobe.agent.backend.FakeBackend;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.proto.v1.DeviceInfo;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.GetInfoRequest;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.RunRequest;
import dev.layerprobe.simulator.profile.DeviceProfile;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who may use the agent: bearer tokens, TLS, the bind rule and the default deadline. */
class AgentAccessTest {
    private static final String TOKEN = "c0ffee00c0ffee00c0ffee00c0ffee00";
    private static final long DEADLINE_SECONDS = 20;

    @TempDir
    Path dir;

    private AgentServer server;
    private final List<ManagedChannel> channels = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (ManagedChannel c : channels) {
            c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
    }

    private Path tokenFile(String token) throws Exception {
        Path f = Files.writeString(dir.resolve("token"), token + "\n");
        if (Files.getFileAttributeView(f, PosixFileAttributeView.class) != null) {
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        }
        return f;
    }

    private String inProcess(AgentConfig config, FakeBackend backend) throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = new AgentServer(InProcessServerBuilder.forName(name), config, backend).start();
        return name;
    }

    private Channel channel(String name, String bearer) {
        ManagedChannel c = InProcessChannelBuilder.forName(name).build();
        channels.add(c);
        return bearer == null ? c : withBearer(c, bearer);
    }

    private static Channel withBearer(Channel c, String token) {
        Metadata h = new Metadata();
        h.put(BearerTokenInterceptor.AUTHORIZATION, "Bearer " + token);
        return ClientInterceptors.intercept(c, MetadataUtils.newAttachHeadersInterceptor(h));
    }

    private static DeviceInfo info(Channel c) {
        return DeviceAgentGrpc.newBlockingStub(c)
                .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .getInfo(GetInfoRequest.getDefaultInstance());
    }

    private static FakeBackend fake() {
        return new FakeBackend(DeviceProfile.DEFAULT, FakeBackend.int8Layers(3, 1, 16));
    }

    @Test
    void callsWithoutTheTokenOrWithAnotherAreUnauthenticated() throws Exception {
        String name =
                inProcess(AgentConfig.builder().tokenFile(tokenFile(TOKEN)).build(), fake());

        StatusRuntimeException none = assertThrows(StatusRuntimeException.class, () -> info(channel(name, null)));
        StatusRuntimeException wrong = assertThrows(
                StatusRuntimeException.class, () -> info(channel(name, "0000000000000000" + TOKEN.substring(16))));
        StatusRuntimeException shorter =
                assertThrows(StatusRuntimeException.class, () -> info(channel(name, TOKEN.substring(1))));

        assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode());
        assertTrue(none.getStatus().getDescription().contains("needs a bearer token"));
        assertEquals(Status.Code.UNAUTHENTICATED, wrong.getStatus().getCode());
        assertEquals("wrong bearer token", wrong.getStatus().getDescription());
        assertEquals(Status.Code.UNAUTHENTICATED, shorter.getStatus().getCode());
        assertEquals(DeviceProfile.DEFAULT.name(), info(channel(name, TOKEN)).getDevice());
    }

    @Test
    void healthNeedsNoTokenButReflectionDoes() throws Exception {
        String name =
                inProcess(AgentConfig.builder().tokenFile(tokenFile(TOKEN)).build(), fake());

        assertEquals(
                ServingStatus.SERVING,
                HealthGrpc.newBlockingStub(channel(name, null))
                        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.newBuilder()
                                .setService(DeviceAgentGrpc.SERVICE_NAME)
                                .build())
                        .getStatus());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> listServices(channel(name, null)));
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
        assertTrue(listServices(channel(name, TOKEN)).contains(DeviceAgentGrpc.SERVICE_NAME));
    }

    @Test
    void anUnusableTokenFileStopsTheAgentFromStarting() throws Exception {
        Path open = tokenFile(TOKEN);
        if (Files.getFileAttributeView(open, PosixFileAttributeView.class) != null) {
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
            AgentSetupException e = assertThrows(
                    AgentSetupException.class,
                    () -> new AgentServer(
                            InProcessServerBuilder.forName("x"),
                            AgentConfig.builder().tokenFile(open).build(),
                            fake()));
            assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
        }
        assertThrows(
                AgentSetupException.class,
                () -> new AgentServer(
                        InProcessServerBuilder.forName("y"),
                        AgentConfig.builder().tokenFile(dir.resolve("missing")).build(),
                        fake()));
    }

    @Test
    void aNonLoopbackAddressNeedsATokenOrInsecure() throws Exception {
        AgentSetupException e = assertThrows(
                AgentSetupException.class,
                () -> AgentServer.netty(
                        AgentConfig.builder().bindHost("0.0.0.0").port(0).build()));
        assertTrue(e.getMessage().contains("--token-file") && e.getMessage().contains("--insecure"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));

        // Built, not started: the rule is checked before any socket is opened.
        AgentServer.netty(AgentConfig.builder()
                        .bindHost("0.0.0.0")
                        .port(0)
                        .tokenFile(tokenFile(TOKEN))
                        .build())
                .close();
        AgentServer.netty(AgentConfig.builder()
                        .bindHost("0.0.0.0")
                        .port(0)
                        .insecure(true)
                        .build())
                .close();
    }

    @Test
    void tlsRoundTripWithAToken() throws Exception {
        TestCertificates certs = TestCertificates.create(dir);
        AgentConfig config = AgentConfig.builder()
                .port(0)
                .tokenFile(tokenFile(TOKEN))
                .tls(certs.cert(), certs.key())
                .build();
        server = AgentServer.netty(config).start();
        assertTrue(server.banner().endsWith("token required, TLS)"), server.banner());

        ManagedChannel tls = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .sslContext(GrpcSslContexts.forClient()
                        .trustManager(certs.cert().toFile())
                        .build())
                .build();
        channels.add(tls);
        DeviceInfo info = info(withBearer(tls, TOKEN));
        assertEquals("sim", info.getBackend());
        Channel authed = withBearer(tls, TOKEN);
        String id = TestClient.upload(authed, dev.layerprobe.agent.backend.TinyModels.relu());
        List<RunEvent> events = new ArrayList<>();
        DeviceAgentGrpc.newBlockingStub(authed)
                .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .run(RunRequest.newBuilder()
                        .setModelId(id)
                        .setFormat(DumpFormat.FLOAT)
                        .addInputs(TestClient.input("x", -1, 2, -3, 4))
                        .build())
                .forEachRemaining(events::add);
        assertTrue(events.get(events.size() - 1).hasSummary());

        ManagedChannel plain = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .usePlaintext()
                .build();
        channels.add(plain);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> info(withBearer(plain, TOKEN)));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
    }

    @Test
    void unreadableTlsFilesStopTheAgentFromStarting() throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.pem"), "not a certificate");
        AgentSetupException e = assertThrows(
                AgentSetupException.class,
                () -> AgentServer.netty(
                        AgentConfig.builder().port(0).tls(junk, junk).build()));
        assertTrue(e.getMessage().startsWith("cannot use --tls-cert"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
        IllegalArgumentException half = assertThrows(
                IllegalArgumentException.class,
                () -> AgentConfig.builder().port(0).tls(junk, null).build());
        assertEquals("TLS needs both --tls-cert and --tls-key", half.getMessage());
    }

    @Test
    void aCallWithoutADeadlineGetsTheDefaultOne() throws Exception {
        FakeBackend slow = new FakeBackend(DeviceProfile.DEFAULT, FakeBackend.int8Layers(200, 1, 16));
        slow.beforeLayer = i -> sleep(20);
        String name = inProcess(
                AgentConfig.builder().defaultDeadline(Duration.ofMillis(300)).build(), slow);
        Channel c = channel(name, null);
        String id = TestClient.upload(c, new byte[] {1, 2, 3});

        long t0 = System.nanoTime();
        StatusRuntimeException e = assertThrows(
                StatusRuntimeException.class,
                () -> DeviceAgentGrpc.newBlockingStub(c)
                        .run(RunRequest.newBuilder()
                                .setModelId(id)
                                .addInputs(TestClient.input(FakeBackend.INPUT, 1, 2, 3, 4))
                                .build())
                        .forEachRemaining(ev -> {}));
        double seconds = (System.nanoTime() - t0) / 1e9;

        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        assertTrue(
                e.getStatus().getDescription().contains("default deadline"),
                e.getStatus().getDescription());
        assertTrue(seconds < 3, "took " + seconds + " s");
        assertTrue(slow.runEnded.await(5, TimeUnit.SECONDS), "the run kept going after its deadline");
        assertTrue(slow.produced.get() < 200);
        // A client deadline is kept as it is: this one is longer than the default.
        assertEquals(DeviceProfile.DEFAULT.name(), info(c).getDevice());
    }

    @Test
    void aStalledUploadIsEndedByTheDefaultDeadlineAndGivesItsMemoryBack() throws Exception {
        String name = inProcess(
                AgentConfig.builder()
                        .maxModelBytes(1000)
                        .defaultDeadline(Duration.ofMillis(300))
                        .build(),
                fake());
        Channel c = channel(name, null);
        List<CompletableFuture<dev.layerprobe.proto.v1.UploadModelResponse>> stalled = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            CompletableFuture<dev.layerprobe.proto.v1.UploadModelResponse> result = new CompletableFuture<>();
            // No deadline on the call, and only the header: together they fill the upload budget.
            DeviceAgentGrpc.newStub(c)
                    .uploadModel(new StreamObserver<>() {
                        @Override
                        public void onNext(dev.layerprobe.proto.v1.UploadModelResponse value) {
                            result.complete(value);
                        }

                        @Override
                        public void onError(Throwable t) {
                            result.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {}
                    })
                    .onNext(dev.layerprobe.proto.v1.UploadModelRequest.newBuilder()
                            .setHeader(dev.layerprobe.proto.v1.ModelHeader.newBuilder()
                                    .setName("stalled")
                                    .setSize(1000))
                            .build());
            stalled.add(result);
        }

        for (CompletableFuture<dev.layerprobe.proto.v1.UploadModelResponse> f : stalled) {
            java.util.concurrent.ExecutionException e = assertThrows(
                    java.util.concurrent.ExecutionException.class, () -> f.get(DEADLINE_SECONDS, TimeUnit.SECONDS));
            assertEquals(
                    Status.Code.DEADLINE_EXCEEDED,
                    ((StatusRuntimeException) e.getCause()).getStatus().getCode());
        }
        // The client hears of the deadline as the agent's handler does, not after: allow a moment.
        for (int attempt = 0; ; attempt++) {
            try {
                assertEquals(64, TestClient.upload(c, new byte[1000]).length());
                break;
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED || attempt == 50) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<String> listServices(Channel c) throws Exception {
        CompletableFuture<List<String>> names = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> req = ServerReflectionGrpc.newStub(c)
                .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse r) {
                        names.complete(r.getListServicesResponse().getServiceList().stream()
                                .map(s -> s.getName())
                                .toList());
                    }

                    @Override
                    public void onError(Throwable t) {
                        names.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        req.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
        try {
            return names.get(DEADLINE_SECONDS, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw (Exception) e.getCause();
        } finally {
            req.onCompleted();
        }
    }
}
