package dev.layerprobe.agent.service;

import static dev.layerprobe.agent.service.AgentClient.get;
import static dev.layerprobe.agent.service.AgentClient.request;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.agent.backend.FakeBackend;
import dev.layerprobe.agent.backend.FakeBackend.FakeLayer;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.proto.v1.BackendInfo;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DeviceInfo;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.Fault;
import dev.layerprobe.proto.v1.GetInfoRequest;
import dev.layerprobe.proto.v1.ModelHeader;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.RunRequest;
import dev.layerprobe.proto.v1.UploadModelRequest;
import dev.layerprobe.proto.v1.UploadModelResponse;
import dev.layerprobe.simulator.profile.DeviceProfile;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The DeviceAgent protocol over an in-process server and a {@link FakeBackend}. */
class DeviceAgentServiceTest {
    private static final byte[] MODEL =
            "not really onnx, the fake backend does not care".getBytes(StandardCharsets.UTF_8);
    private static final String FAULTY_PROFILE = """
            name: faulty-npu
            faults:
              - kind: depth_to_space_mode_swap
                layer: d2s_out
              - kind: depth_to_space_mode_swap
                op: DepthToSpace
            """;

    private AgentServer server;
    private ManagedChannel channel;
    private FakeBackend backend;
    private AgentClient client;

    private void start(List<FakeLayer> layers, AgentConfig config) throws Exception {
        backend = new FakeBackend(config.profile(), layers);
        String name = InProcessServerBuilder.generateName();
        server = new AgentServer(InProcessServerBuilder.forName(name).directExecutor(), config, backend).start();
        // The client has its own executor so that a slow test observer never runs on the server's threads.
        channel = InProcessChannelBuilder.forName(name).build();
        client = new AgentClient(channel);
    }

    private void start(List<FakeLayer> layers) throws Exception {
        start(layers, AgentConfig.defaults());
    }

    private static List<FakeLayer> mixedLayers() {
        return List.of(
                FakeBackend.int8Layer(0, "conv1", "Conv", 1, 3, 40, 40),
                FakeBackend.uint8PerChannelLayer(1, "conv2", "Conv", 1, 4, 3, 3),
                FakeBackend.int16Layer(2, "add", "Add", 1, 5000),
                FakeBackend.floatLayer(3, "softmax", "Softmax", 1, 10));
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void getInfoDescribesDeviceBackendAndActiveFaults() throws Exception {
        start(
                List.of(),
                AgentConfig.builder()
                        .profile(DeviceProfile.parse(FAULTY_PROFILE, "test"))
                        .maxModelBytes(12345)
                        .build());

        DeviceInfo info = client.blocking().getInfo(GetInfoRequest.getDefaultInstance());

        assertEquals("faulty-npu", info.getDevice());
        assertEquals("faulty-npu", info.getProfile());
        assertEquals("fake", info.getBackend());
        assertEquals(List.of("run", "native_dumps", "run_layer"), info.getCapabilitiesList());
        assertEquals(12345, info.getMaxModelBytes());
        assertEquals("1.0", info.getVersionsOrThrow("fake"));
        assertTrue(info.containsVersions("agent"));
        assertEquals(Runtime.version().toString(), info.getVersionsOrThrow("java"));
        assertEquals(
                List.of(
                        Fault.newBuilder()
                                .setKind("depth_to_space_mode_swap")
                                .setLayer("d2s_out")
                                .build(),
                        Fault.newBuilder()
                                .setKind("depth_to_space_mode_swap")
                                .setOp("DepthToSpace")
                                .build()),
                info.getFaultsList());
    }

    /** Starts an upload that announces {@code size} bytes and sends only its header. */
    private StreamObserver<UploadModelRequest> openUpload(long size, CompletableFuture<UploadModelResponse> result) {
        StreamObserver<UploadModelRequest> up = client.async().uploadModel(new StreamObserver<>() {
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
                .setHeader(ModelHeader.newBuilder().setName("big.onnx").setSize(size))
                .build());
        return up;
    }

    @Test
    void uploadsInProgressShareABudgetThatEveryEndingReturns() throws Exception {
        start(List.of(), AgentConfig.builder().maxModelBytes(1000).build());
        byte[] full = new byte[1000];
        // Every way an upload can end must give its 1000 bytes back; a leak would leave no room below.
        for (int i = 0; i < 3; i++) {
            ModelHeader h = ModelHeader.newBuilder().setName("m").setSize(1000).build();
            assertThrows(StatusRuntimeException.class, () -> get(client.upload(h, new byte[999], 500)));
            assertThrows(
                    StatusRuntimeException.class,
                    () -> get(client.upload(
                            h.toBuilder().setSha256("0".repeat(64)).build(), full, 500)));
            assertNotNull(get(client.upload(h, full, 500)).getModelId());
            CompletableFuture<UploadModelResponse> cancelled = new CompletableFuture<>();
            openUpload(1000, cancelled).onError(new RuntimeException("client gone"));
            assertThrows(Exception.class, () -> get(cancelled));
        }

        CompletableFuture<UploadModelResponse> a = new CompletableFuture<>();
        CompletableFuture<UploadModelResponse> b = new CompletableFuture<>();
        StreamObserver<UploadModelRequest> first = openUpload(1000, a);
        StreamObserver<UploadModelRequest> second = openUpload(1000, b);
        ModelHeader small =
                ModelHeader.newBuilder().setName("small.onnx").setSize(10).build();
        StatusRuntimeException busy =
                assertThrows(StatusRuntimeException.class, () -> get(client.upload(small, new byte[10], 10)));

        assertEquals(Status.Code.RESOURCE_EXHAUSTED, busy.getStatus().getCode());
        assertTrue(busy.getStatus().getDescription().contains("busy receiving other uploads"));
        first.onError(new RuntimeException("client gone"));
        assertThrows(Exception.class, () -> get(a));
        assertNotNull(get(client.upload(small, new byte[10], 10)).getModelId());
        second.onNext(UploadModelRequest.newBuilder()
                .setData(com.google.protobuf.ByteString.copyFrom(full))
                .build());
        second.onCompleted();
        assertEquals(1000, get(b).getSize());
    }

    @Test
    void getInfoListsEveryBackendOnTheClassPathAndWhichOneIsActive() throws Exception {
        start(List.of());

        DeviceInfo info = client.blocking().getInfo(GetInfoRequest.getDefaultInstance());

        assertEquals(
                List.of(
                        BackendInfo.newBuilder()
                                .setName("sim")
                                .addAllCapabilities(List.of("run", "native_dumps", "run_layer"))
                                .build(),
                        BackendInfo.newBuilder()
                                .setName("ort")
                                .addAllCapabilities(List.of("run", "native_dumps"))
                                .build(),
                        BackendInfo.newBuilder()
                                .setName("exec")
                                .addAllCapabilities(List.of("run"))
                                .build(),
                        BackendInfo.newBuilder()
                                .setName("fake")
                                .setActive(true)
                                .addAllCapabilities(List.of("run", "native_dumps", "run_layer"))
                                .build()),
                info.getBackendsList());
    }

    @Test
    void uploadReturnsTheSha256AsIdAndIsIdempotent() throws Exception {
        start(List.of());
        ModelHeader header =
                ModelHeader.newBuilder().setName("m.onnx").setSize(MODEL.length).build();

        UploadModelResponse first = get(client.upload(header, MODEL, 7));
        UploadModelResponse second = get(
                client.upload(header.toBuilder().setSha256(Sha256.hexOf(MODEL)).build(), MODEL, 1000));

        assertEquals(Sha256.hexOf(MODEL), first.getModelId());
        assertEquals(MODEL.length, first.getSize());
        assertFalse(first.getAlreadyPresent());
        assertEquals(first.getModelId(), second.getModelId());
        assertTrue(second.getAlreadyPresent());
    }

    @Test
    void uploadRefusesAChecksumMismatchNamingBothHashes() throws Exception {
        start(List.of());
        String wrong = Sha256.hexOf(new byte[] {1, 2, 3});
        ModelHeader header = ModelHeader.newBuilder()
                .setName("m.onnx")
                .setSize(MODEL.length)
                .setSha256(wrong)
                .build();

        StatusRuntimeException e =
                assertThrows(StatusRuntimeException.class, () -> get(client.upload(header, MODEL, 10)));

        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains(wrong), e.getStatus().getDescription());
        assertTrue(
                e.getStatus().getDescription().contains(Sha256.hexOf(MODEL)),
                e.getStatus().getDescription());
    }

    @Test
    void uploadRefusesAnOversizedModelOnItsHeader() throws Exception {
        start(List.of(), AgentConfig.builder().maxModelBytes(1000).build());
        CompletableFuture<UploadModelResponse> result = new CompletableFuture<>();
        StreamObserver<UploadModelRequest> requests = client.async().uploadModel(completing(result));

        // Only the header goes out and the stream stays open: the refusal cannot wait for the data.
        requests.onNext(UploadModelRequest.newBuilder()
                .setHeader(ModelHeader.newBuilder().setName("big.onnx").setSize(2000))
                .build());

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> get(result));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertTrue(
                e.getStatus().getDescription().contains("1000"), e.getStatus().getDescription());
    }

    @Test
    void uploadRefusesMoreBytesThanAnnounced() throws Exception {
        start(List.of());
        ModelHeader header =
                ModelHeader.newBuilder().setName("m.onnx").setSize(10).build();

        StatusRuntimeException e =
                assertThrows(StatusRuntimeException.class, () -> get(client.upload(header, MODEL, 4)));

        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(
                e.getStatus().getDescription().contains("more than the 10 bytes"),
                e.getStatus().getDescription());
    }

    @Test
    void uploadRefusesDataBeforeTheHeader() throws Exception {
        start(List.of());
        CompletableFuture<UploadModelResponse> result = new CompletableFuture<>();
        StreamObserver<UploadModelRequest> requests = client.async().uploadModel(completing(result));

        requests.onNext(UploadModelRequest.newBuilder()
                .setData(com.google.protobuf.ByteString.copyFrom(MODEL))
                .build());
        requests.onCompleted();

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> get(result));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    }

    @Test
    void nativeRunStreamsEveryLayerAsCodesWithChecksums() throws Exception {
        start(mixedLayers());
        String id = client.upload(MODEL);

        RunCollector run = client.run(request(id, DumpFormat.NATIVE, 4096));

        run.assertComplete();
        assertEquals(4, run.layers.size());
        RunCollector.Received conv1 = run.layers.get(0);
        assertEquals("conv1", conv1.header().getName());
        assertEquals("Conv", conv1.header().getOp());
        assertEquals(List.of(1L, 3L, 40L, 40L), conv1.header().getShapeList());
        assertEquals(DataType.INT8, conv1.header().getDtype());
        assertEquals(4800, conv1.header().getSizeBytes());
        assertEquals(2, conv1.chunks(), "4800 bytes in chunks of at most 4096");
        assertEquals(List.of(0.05f), conv1.header().getQuant().getScaleList());
        assertEquals(List.of(-3L), conv1.header().getQuant().getZeroPointList());
        assertEquals("npu", conv1.header().getPlacement());
        assertEquals(List.of("conv1_node"), conv1.header().getFusedNodesList());
        assertArrayEquals(asBytes(backend.layers().get(0).value().codes().codes()), conv1.data());

        RunCollector.Received conv2 = run.layers.get(1);
        assertEquals(DataType.UINT8, conv2.header().getDtype());
        assertEquals(36, conv2.data().length);
        assertEquals(1, conv2.header().getQuant().getAxis());
        assertEquals(List.of(128L, 129L, 130L, 131L), conv2.header().getQuant().getZeroPointList());
        assertEquals(List.of("conv2_conv", "conv2_relu"), conv2.header().getFusedNodesList());
        assertEquals(35, conv2.data()[35] & 0xff);

        RunCollector.Received add = run.layers.get(2);
        assertEquals(DataType.INT16, add.header().getDtype());
        assertEquals(10000, add.data().length);
        assertArrayEquals(backend.layers().get(2).value().codes().codes(), int16s(add.data()));

        RunCollector.Received softmax = run.layers.get(3);
        assertEquals(DataType.FLOAT32, softmax.header().getDtype());
        assertFalse(softmax.header().hasQuant());
        assertEquals("cpu", softmax.header().getPlacement());
        assertArrayEquals(backend.layers().get(3).value().real().floats(), floats(softmax.data()));
    }

    @Test
    void floatRunStreamsEveryLayerAsDequantizedFloat32() throws Exception {
        start(mixedLayers());
        String id = client.upload(MODEL);

        RunCollector run = client.run(request(id, DumpFormat.FLOAT, 0));

        run.assertComplete();
        for (int i = 0; i < 4; i++) {
            RunCollector.Received l = run.layers.get(i);
            float[] expected = backend.layers().get(i).value().real().floats();
            assertEquals(DataType.FLOAT32, l.header().getDtype(), l.header().getName());
            assertFalse(l.header().hasQuant(), l.header().getName());
            assertEquals(4L * expected.length, l.header().getSizeBytes());
            assertArrayEquals(expected, floats(l.data()), l.header().getName());
        }
        assertEquals(1, run.layers.get(0).chunks(), "the default chunk holds a 19200-byte layer");
    }

    @Test
    void runOfAnUnknownModelIsNotFound() throws Exception {
        start(mixedLayers());

        StatusRuntimeException e = assertThrows(
                StatusRuntimeException.class,
                () -> client.run(request(Sha256.hexOf(new byte[1]), DumpFormat.NATIVE, 0)));

        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    }

    @Test
    void runWithAnUnknownInputNameListsTheExpectedOnes() throws Exception {
        start(mixedLayers());
        String id = client.upload(MODEL);
        RunRequest bad = RunRequest.newBuilder()
                .setModelId(id)
                .addInputs(AgentClient.input("images", 1, 2, 3, 4))
                .build();

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> client.run(bad));

        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals(
                "unknown input 'images', expected one of [input]", e.getStatus().getDescription());
        assertEquals(0, backend.produced.get());
    }

    @Test
    void runWithAMalformedInputTensorIsInvalidArgument() throws Exception {
        start(mixedLayers());
        String id = client.upload(MODEL);
        RunRequest bad = RunRequest.newBuilder()
                .setModelId(id)
                .addInputs(AgentClient.input(FakeBackend.INPUT, 1, 2).toBuilder()
                        .clearShape()
                        .addShape(1)
                        .addShape(4))
                .build();

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> client.run(bad));

        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(
                e.getStatus().getDescription().contains("needs 16 bytes"),
                e.getStatus().getDescription());
    }

    @Test
    void cancellingMidStreamStopsTheProducer() throws Exception {
        start(FakeBackend.int8Layers(200, 1, 8192));
        String id = client.upload(MODEL);
        SlowReader reader = new SlowReader(0);

        client.async().run(request(id, DumpFormat.NATIVE, 4096), reader);
        reader.request(10);
        assertTrue(reader.awaitEvents(10), "the first events arrive");
        reader.call.cancel("the host lost interest", null);

        assertTrue(backend.runEnded.await(10, TimeUnit.SECONDS), "the backend's layer loop ends");
        assertTrue(backend.aborted.get(), "it ends because the observer aborted it");
        assertTrue(backend.produced.get() < 10, "produced " + backend.produced.get());
    }

    @Test
    void anExpiredDeadlineStopsTheProducer() throws Exception {
        start(FakeBackend.int8Layers(200, 1, 8192));
        String id = client.upload(MODEL);
        SlowReader reader = new SlowReader(0);

        // The client stops reading after one event, so the producer waits on flow control until the deadline.
        client.async().withDeadlineAfter(300, TimeUnit.MILLISECONDS).run(request(id, DumpFormat.NATIVE, 4096), reader);

        assertEquals(Status.Code.DEADLINE_EXCEEDED, reader.awaitError().getCode());
        assertTrue(backend.runEnded.await(10, TimeUnit.SECONDS), "the backend's layer loop ends");
        assertTrue(backend.aborted.get());
    }

    @Test
    void aSlowClientGetsEverythingWhileTheProducerStaysWithinALayerOfIt() throws Exception {
        int layers = 20;
        start(FakeBackend.int8Layers(layers, 1, 3, 64, 64));
        String id = client.upload(MODEL);
        SlowReader reader = new SlowReader(2);
        AtomicInteger maxAhead = new AtomicInteger();
        backend.beforeLayer = i -> maxAhead.accumulateAndGet(i - reader.ends.get(), Math::max);

        client.async().run(request(id, DumpFormat.NATIVE, 4096), reader);

        reader.awaitCompletion();
        reader.collector.assertComplete();
        assertEquals(layers, reader.collector.layers.size());
        // Producing layer i while the client has fully read fewer than i - 2 layers would mean whole
        // layers queued ahead of the transport.
        assertTrue(maxAhead.get() <= 2, "producer ran " + maxAhead.get() + " layers ahead of the client");
    }

    @Test
    void runsBeyondTheLimitAreRefusedWhileTheAgentIsBusy() throws Exception {
        start(
                FakeBackend.int8Layers(5, 1, 8192),
                AgentConfig.builder().maxConcurrentRuns(1).build());
        String id = client.upload(MODEL);
        SlowReader holder = new SlowReader(0);
        client.async().run(request(id, DumpFormat.NATIVE, 4096), holder);
        assertTrue(holder.awaitEvents(1));

        StatusRuntimeException e =
                assertThrows(StatusRuntimeException.class, () -> client.run(request(id, DumpFormat.NATIVE, 4096)));

        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        holder.call.cancel("done", null);
        assertTrue(backend.runEnded.await(10, TimeUnit.SECONDS));
        // The slot is free again once the first run has ended. The backend's loop ends a moment before
        // the run job gives its slot back, so a run started in between may still be refused: retry until
        // a deadline rather than sleeping a guessed time.
        backend.runEnded = new CountDownLatch(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                client.run(request(id, DumpFormat.NATIVE, 4096)).assertComplete();
                break;
            } catch (StatusRuntimeException busy) {
                if (busy.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED || System.nanoTime() > deadline) {
                    throw busy;
                }
                Thread.sleep(5);
            }
        }
    }

    /** A client that reads with manual flow control: one message at first, then as the test or its pace allows. */
    private static final class SlowReader implements ClientResponseObserver<RunRequest, RunEvent> {
        final RunCollector collector = new RunCollector();
        final AtomicInteger ends = new AtomicInteger();
        private final AtomicInteger events = new AtomicInteger();
        private final long pauseMillis;
        private final CompletableFuture<Status> done = new CompletableFuture<>();
        volatile ClientCallStreamObserver<RunRequest> call;

        /** @param pauseMillis after each message; a positive pause also requests the next message */
        SlowReader(long pauseMillis) {
            this.pauseMillis = pauseMillis;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<RunRequest> requestStream) {
            call = requestStream;
            requestStream.disableAutoRequestWithInitial(1);
        }

        void request(int n) {
            call.request(n);
        }

        @Override
        public void onNext(RunEvent event) {
            synchronized (collector) {
                collector.accept(event);
            }
            if (event.hasEnd()) {
                ends.incrementAndGet();
            }
            synchronized (events) {
                events.incrementAndGet();
                events.notifyAll();
            }
            if (pauseMillis > 0) {
                try {
                    Thread.sleep(pauseMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                call.request(1);
            }
        }

        @Override
        public void onError(Throwable t) {
            done.complete(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            done.complete(Status.OK);
        }

        boolean awaitEvents(int n) throws InterruptedException {
            long until = System.currentTimeMillis() + 10_000;
            synchronized (events) {
                while (events.get() < n && System.currentTimeMillis() < until) {
                    events.wait(100);
                }
                return events.get() >= n;
            }
        }

        Status awaitError() throws Exception {
            Status s = done.get(AgentClient.DEADLINE_SECONDS, TimeUnit.SECONDS);
            assertFalse(s.isOk(), "the call should have failed");
            return s;
        }

        void awaitCompletion() throws Exception {
            Status s = done.get(AgentClient.DEADLINE_SECONDS, TimeUnit.SECONDS);
            assertNotNull(s);
            assertTrue(s.isOk(), s.toString());
        }
    }

    private static <T> StreamObserver<T> completing(CompletableFuture<T> result) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                result.complete(null);
            }
        };
    }

    private static byte[] asBytes(int[] codes) {
        byte[] out = new byte[codes.length];
        for (int i = 0; i < codes.length; i++) {
            out[i] = (byte) codes[i];
        }
        return out;
    }

    private static int[] int16s(byte[] data) {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int[] out = new int[data.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getShort();
        }
        return out;
    }

    static float[] floats(byte[] data) {
        float[] out = new float[data.length / 4];
        ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    @Test
    void runLayerReturnsOneLayerWithItsChecksum() throws Exception {
        start(mixedLayers());
        String id = client.upload(MODEL);
        var r = client.blocking()
                .runLayer(dev.layerprobe.proto.v1.RunLayerRequest.newBuilder()
                        .setModelId(id)
                        .setLayer("conv1")
                        .addInputs(AgentClient.input(FakeBackend.INPUT, 1f, 2f, 3f, 4f))
                        .build());
        assertEquals("conv1", r.getHeader().getName());
        assertEquals(dev.layerprobe.proto.v1.DataType.INT8, r.getHeader().getDtype());
        assertEquals(r.getHeader().getSizeBytes(), r.getData().size());
        assertEquals(Sha256.hexOf(r.getData().toByteArray()), r.getSha256());
    }

    @Test
    void runLayerOfAnUnknownModelOrLayerIsRefused() throws Exception {
        start(mixedLayers());
        String id = client.upload(MODEL);
        StatusRuntimeException unknownModel = assertThrows(
                StatusRuntimeException.class,
                () -> client.blocking()
                        .runLayer(dev.layerprobe.proto.v1.RunLayerRequest.newBuilder()
                                .setModelId("0".repeat(64))
                                .setLayer("conv1")
                                .build()));
        assertEquals(Status.Code.NOT_FOUND, unknownModel.getStatus().getCode());
        StatusRuntimeException notAnId = assertThrows(
                StatusRuntimeException.class,
                () -> client.blocking()
                        .runLayer(dev.layerprobe.proto.v1.RunLayerRequest.newBuilder()
                                .setModelId("../" + id)
                                .setLayer("conv1")
                                .build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, notAnId.getStatus().getCode());
        assertTrue(notAnId.getStatus().getDescription().contains("is not a model id"));
        StatusRuntimeException unknownLayer = assertThrows(
                StatusRuntimeException.class,
                () -> client.blocking()
                        .runLayer(dev.layerprobe.proto.v1.RunLayerRequest.newBuilder()
                                .setModelId(id)
                                .setLayer("nope")
                                .build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, unknownLayer.getStatus().getCode());
        assertTrue(unknownLayer.getStatus().getDescription().contains("nope"));
    }
}
