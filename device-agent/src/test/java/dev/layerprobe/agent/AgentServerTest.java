package dev.layerprobe.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.layerprobe.agent.backend.FakeBackend;
import dev.layerprobe.agent.backend.TinyModels;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.proto.v1.DeviceInfo;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.GetInfoRequest;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.ModelHeader;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.RunRequest;
import dev.layerprobe.proto.v1.Tensor;
import dev.layerprobe.proto.v1.UploadModelRequest;
import dev.layerprobe.proto.v1.UploadModelResponse;
import dev.layerprobe.simulator.profile.DeviceProfile;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The agent over real loopback sockets: what the host and grpcurl see. */
class AgentServerTest {
    private static final long DEADLINE_SECONDS = 20;

    private AgentServer server;
    private ManagedChannel channel;

    @AfterEach
    void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
    }

    private DeviceAgentGrpc.DeviceAgentBlockingStub connect() {
        channel = NettyChannelBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()))
                .usePlaintext()
                .build();
        return DeviceAgentGrpc.newBlockingStub(channel).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void servesInfoHealthReflectionAndARunOverLoopback() throws Exception {
        // 6 MiB of dumps, far more than the transport's buffers, so flow control is exercised.
        FakeBackend backend = new FakeBackend(DeviceProfile.DEFAULT, FakeBackend.int8Layers(6, 1, 16, 256, 256));
        AgentConfig config = AgentConfig.builder().port(0).build();
        server = new AgentServer(
                        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
                        config,
                        backend)
                .start();
        DeviceAgentGrpc.DeviceAgentBlockingStub agent = connect();

        DeviceInfo info = agent.getInfo(GetInfoRequest.getDefaultInstance());
        assertEquals(DeviceProfile.DEFAULT.name(), info.getDevice());
        assertTrue(server.port() > 0);
        assertEquals(
                ServingStatus.SERVING,
                HealthGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.newBuilder()
                                .setService(DeviceAgentGrpc.SERVICE_NAME)
                                .build())
                        .getStatus());
        assertTrue(listServices().containsAll(List.of(DeviceAgentGrpc.SERVICE_NAME, "grpc.health.v1.Health")));

        String id = upload(new byte[] {1, 2, 3});
        Iterator<RunEvent> events = agent.run(RunRequest.newBuilder()
                .setModelId(id)
                .addInputs(input(FakeBackend.INPUT, 1, 2, 3, 4))
                .setFormat(DumpFormat.NATIVE)
                .build());
        List<LayerHeader> headers = new ArrayList<>();
        ByteArrayOutputStream last = new ByteArrayOutputStream();
        RunEvent summary = null;
        while (events.hasNext()) {
            RunEvent e = events.next();
            if (e.hasHeader()) {
                headers.add(e.getHeader());
                last.reset();
            } else if (e.hasChunk()) {
                last.writeBytes(e.getChunk().getData().toByteArray());
            } else if (e.hasEnd()) {
                assertEquals(Sha256.hexOf(last.toByteArray()), e.getEnd().getSha256());
            } else {
                summary = e;
            }
        }

        assertEquals(6, headers.size());
        assertEquals(DataType.INT8, headers.get(5).getDtype());
        assertEquals(6L * 16 * 256 * 256, summary.getSummary().getTotalBytes());
        byte[] expected = new byte[16 * 256 * 256];
        int[] codes = backend.layers().get(5).value().codes().codes();
        for (int i = 0; i < codes.length; i++) {
            expected[i] = (byte) codes[i];
        }
        assertArrayEquals(expected, last.toByteArray());
    }

    @Test
    void runsATinyModelOnTheSimulatorBackend() throws Exception {
        server = AgentServer.netty(AgentConfig.builder().port(0).build()).start();
        DeviceAgentGrpc.DeviceAgentBlockingStub agent = connect();
        assertEquals("sim", agent.getInfo(GetInfoRequest.getDefaultInstance()).getBackend());
        String id = upload(TinyModels.relu());

        List<RunEvent> events = new ArrayList<>();
        try {
            agent.run(RunRequest.newBuilder()
                            .setModelId(id)
                            .setFormat(DumpFormat.FLOAT)
                            .addInputs(input("x", -1, 2, -3, 4))
                            .build())
                    .forEachRemaining(events::add);
        } catch (StatusRuntimeException e) {
            Assumptions.assumeFalse(
                    e.getStatus().getCode() == Status.Code.UNIMPLEMENTED
                            && String.valueOf(e.getStatus().getDescription()).contains("not written"),
                    "the simulator's compiler is not written yet");
            throw e;
        }

        RunEvent chunk = events.stream().filter(RunEvent::hasChunk).findFirst().orElseThrow();
        float[] y = new float[4];
        chunk.getChunk()
                .getData()
                .asReadOnlyByteBuffer()
                .order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer()
                .get(y);
        assertArrayEquals(new float[] {0, 2, 0, 4}, y);
        assertTrue(events.get(events.size() - 1).hasSummary());
    }

    @Test
    void refusesANonLoopbackAddressUnlessInsecure() {
        AgentSetupException e = assertThrows(
                AgentSetupException.class,
                () -> AgentServer.netty(
                        AgentConfig.builder().bindHost("0.0.0.0").port(0).build()));

        assertTrue(e.getMessage().contains("--insecure"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    private String upload(byte[] model) throws Exception {
        CompletableFuture<UploadModelResponse> result = new CompletableFuture<>();
        StreamObserver<UploadModelRequest> up = DeviceAgentGrpc.newStub(channel)
                .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .uploadModel(new StreamObserver<>() {
                    @Override
                    public void onNext(UploadModelResponse value) {
                        result.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        result.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        up.onNext(UploadModelRequest.newBuilder()
                .setHeader(ModelHeader.newBuilder().setName("m.onnx").setSize(model.length))
                .build());
        up.onNext(UploadModelRequest.newBuilder()
                .setData(ByteString.copyFrom(model))
                .build());
        up.onCompleted();
        return result.get(DEADLINE_SECONDS, TimeUnit.SECONDS).getModelId();
    }

    private List<String> listServices() throws Exception {
        CompletableFuture<List<String>> names = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> req = ServerReflectionGrpc.newStub(channel)
                .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse r) {
                        names.complete(r.getListServicesResponse().getServiceList().stream()
                                .map(ServiceResponse::getName)
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
        List<String> result = names.get(DEADLINE_SECONDS, TimeUnit.SECONDS);
        req.onCompleted();
        return result;
    }

    private static Tensor input(String name, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return Tensor.newBuilder()
                .setName(name)
                .addShape(1)
                .addShape(values.length)
                .setDtype(DataType.FLOAT32)
                .setData(ByteString.copyFrom(b.array()))
                .build();
    }
}
