package dev.layerprobe.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import com.sun.management.UnixOperatingSystemMXBean;
import dev.layerprobe.agent.backend.TinyModels;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.GetInfoRequest;
import dev.layerprobe.proto.v1.ModelHeader;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.RunLayerRequest;
import dev.layerprobe.proto.v1.RunRequest;
import dev.layerprobe.proto.v1.Tensor;
import dev.layerprobe.proto.v1.UploadModelRequest;
import dev.layerprobe.proto.v1.UploadModelResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The agent keeps serving whatever its clients do: clients killed mid-stream, many clients at
 * once, and a thousand malformed uploads and requests. Runs go through the simulator backend on a
 * model built here.
 */
class AgentFaultTest {
    private static final long DEADLINE_SECONDS = 30;
    /** 8 layers of 1x16x64x64 float32: 256 KiB each, far more than the transport buffers. */
    private static final byte[] CHAIN = TinyModels.chain(8, 16, 64);

    private static final int[] CHAIN_SHAPE = {1, 16, 64, 64};

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

    private ManagedChannel loopback() {
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .usePlaintext()
                .maxInboundMessageSize(16 << 20)
                .build();
        channels.add(c);
        return c;
    }

    private static Tensor seededInput(long seed) {
        Random r = new Random(seed);
        int n = CHAIN_SHAPE[1] * CHAIN_SHAPE[2] * CHAIN_SHAPE[3];
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian() * 3;
        }
        return TestClient.input("x", CHAIN_SHAPE, v);
    }

    private static RunRequest run(String id, long seed) {
        return RunRequest.newBuilder()
                .setModelId(id)
                .setFormat(DumpFormat.FLOAT)
                .setChunkBytes(16 << 10)
                .addInputs(seededInput(seed))
                .build();
    }

    @Test
    void clientsKilledMidStreamLeaveTheAgentServingWithoutLeaks() throws Exception {
        server = AgentServer.netty(
                        AgentConfig.builder().port(0).maxConcurrentRuns(2).build())
                .start();
        // Kept open throughout, so the client transport's shared event loop is not torn down and
        // rebuilt between measurements.
        ManagedChannel steady = loopback();
        String id = TestClient.upload(steady, CHAIN);
        byte[] reference = TestClient.runBytes(steady, run(id, 7));

        for (int i = 0; i < 10; i++) {
            killMidStream(id, i);
        }
        awaitQuiet();
        long threadsBefore = threads();
        long filesBefore = openFiles();

        for (int i = 0; i < 100; i++) {
            killMidStream(id, i);
        }
        awaitQuiet();
        long threadsAfter = threads();
        long filesAfter = openFiles();

        System.out.printf(
                "100 clients killed mid-stream: threads %d -> %d, open files %d -> %d%n",
                threadsBefore, threadsAfter, filesBefore, filesAfter);
        // A leak per killed client would show as 100 or more; a few come and go with gRPC's
        // cached executor threads and sockets still closing.
        assertTrue(threadsAfter <= threadsBefore + 4, threadsBefore + " -> " + threadsAfter + " threads");
        assertTrue(filesAfter <= filesBefore + 4, filesBefore + " -> " + filesAfter + " open files");
        // Both run slots are free again (a leaked one would make one of these RESOURCE_EXHAUSTED),
        // and the results are bit-identical to the run before the kills.
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<byte[]> a = pool.submit(() -> TestClient.runBytes(loopback(), run(id, 7)));
            Future<byte[]> b = pool.submit(() -> TestClient.runBytes(loopback(), run(id, 7)));
            assertArrayEquals(reference, a.get(DEADLINE_SECONDS, TimeUnit.SECONDS));
            assertArrayEquals(reference, b.get(DEADLINE_SECONDS, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Starts a run on a fresh connection, reads into its second layer, then kills the client:
     * by cancelling the call (even i) or by shutting its channel down abruptly (odd i).
     */
    private void killMidStream(String id, int i) throws Exception {
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .usePlaintext()
                .build();
        Context.CancellableContext call = Context.current().withCancellation();
        try {
            Context previous = call.attach();
            try {
                Iterator<RunEvent> events = DeviceAgentGrpc.newBlockingStub(c)
                        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                        .run(run(id, i));
                int headers = 0;
                while (headers < 2) {
                    if (events.next().hasHeader()) {
                        headers++;
                    }
                }
            } finally {
                call.detach(previous);
            }
            if (i % 2 == 0) {
                call.cancel(null);
            } else {
                c.shutdownNow();
            }
        } finally {
            call.cancel(null);
            c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Waits until no run is left on the agent: as many runs as it allows fit at once. */
    private void awaitQuiet() throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            long before = threads();
            Thread.sleep(200);
            if (threads() == before || System.nanoTime() > end) {
                return;
            }
        }
    }

    private static long threads() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    private static long openFiles() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof UnixOperatingSystemMXBean unix ? unix.getOpenFileDescriptorCount() : 0;
    }

    @Test
    void sixteenConcurrentClientsGetWhatSerialRunsGet() throws Exception {
        server = AgentServer.netty(
                        AgentConfig.builder().port(0).maxConcurrentRuns(16).build())
                .start();
        ManagedChannel setup = loopback();
        String id = TestClient.upload(setup, CHAIN);
        byte[][] serial = new byte[16][];
        for (int i = 0; i < 16; i++) {
            serial[i] = TestClient.runBytes(setup, run(id, 100 + i));
        }

        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<byte[]>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                long seed = 100L + i;
                results.add(pool.submit(() -> {
                    // Each client its own connection, its own (idempotent) upload, its own input.
                    ManagedChannel c = loopback();
                    assertEquals(id, TestClient.upload(c, CHAIN));
                    return TestClient.runBytes(c, run(id, seed));
                }));
            }
            for (int i = 0; i < 16; i++) {
                assertArrayEquals(serial[i], results.get(i).get(60, TimeUnit.SECONDS), "client " + i);
            }
        } finally {
            pool.shutdownNow();
        }
        assertFalse(java.util.Arrays.equals(serial[0], serial[1]), "inputs differ, so results must");
    }

    @Test
    void aThousandMalformedUploadsAndRequestsAreRefusedWithAReason() throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = new AgentServer(InProcessServerBuilder.forName(name), AgentConfig.defaults()).start();
        ManagedChannel c = InProcessChannelBuilder.forName(name).build();
        channels.add(c);
        byte[] relu = TinyModels.relu();
        String reluId = TestClient.upload(c, relu);
        Random r = new Random(2024);
        Map<Status.Code, Integer> perCode = new EnumMap<>(Status.Code.class);

        for (int i = 0; i < 1000; i++) {
            String what = "case " + i;
            StatusRuntimeException e;
            try {
                what = malformedCall(c, r, i % 10, relu, reluId);
                fail(what + " was accepted");
                return;
            } catch (StatusRuntimeException ex) {
                e = ex;
            } catch (ExecutionException ex) {
                e = (StatusRuntimeException) ex.getCause();
            } catch (MalformedCall ex) {
                what = ex.what;
                e = ex.status;
            }
            Status.Code code = e.getStatus().getCode();
            String d = e.getStatus().getDescription();
            assertTrue(
                    code == Status.Code.INVALID_ARGUMENT || code == Status.Code.NOT_FOUND,
                    what + ": " + code + " " + d);
            assertTrue(d != null && !d.isBlank() && !d.contains("\n"), what + ": " + d);
            perCode.merge(code, 1, Integer::sum);
        }

        System.out.printf(
                "1000 malformed calls: %d INVALID_ARGUMENT, %d NOT_FOUND%n",
                perCode.getOrDefault(Status.Code.INVALID_ARGUMENT, 0), perCode.getOrDefault(Status.Code.NOT_FOUND, 0));
        DeviceAgentGrpc.newBlockingStub(c)
                .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .getInfo(GetInfoRequest.getDefaultInstance());
        byte[] out = TestClient.runBytes(
                c,
                RunRequest.newBuilder()
                        .setModelId(reluId)
                        .setFormat(DumpFormat.FLOAT)
                        .addInputs(TestClient.input("x", -1, 2, -3, 4))
                        .build());
        assertTrue(out.length > 0);
    }

    /** A refused call and what it was, for the assertion message. */
    private static final class MalformedCall extends Exception {
        final String what;
        final StatusRuntimeException status;

        MalformedCall(String what, StatusRuntimeException status) {
            super(what, null, false, false);
            this.what = what;
            this.status = status;
        }
    }

    /** Makes one malformed call of the given kind; returns its description if it was (wrongly) accepted. */
    private static String malformedCall(Channel c, Random r, int kind, byte[] model, String modelId) throws Exception {
        switch (kind) {
            case 0 -> {
                byte[] junk = new byte[1 + r.nextInt(4096)];
                r.nextBytes(junk);
                return upload(c, "random bytes (" + junk.length + ")", junk, junk.length);
            }
            case 1 -> {
                int n = 1 + r.nextInt(model.length - 1);
                byte[] cut = java.util.Arrays.copyOf(model, n);
                return upload(c, "model truncated to " + n + " of " + model.length + " bytes", cut, n);
            }
            case 2 -> {
                long[] sizes = {
                    -1,
                    0,
                    Long.MAX_VALUE,
                    Long.MIN_VALUE,
                    AgentConfig.MAX_MODEL_BYTES_LIMIT + 1,
                    1L << (40 + r.nextInt(20))
                };
                long size = sizes[r.nextInt(sizes.length)];
                return upload(c, "declared size " + size, model, size);
            }
            case 3 -> {
                int delta = 1 + r.nextInt(100);
                long size = r.nextBoolean() ? model.length + delta : Math.max(1, model.length - delta);
                return upload(c, "declared size " + size + " for " + model.length + " bytes", model, size);
            }
            case 4 -> {
                ModelProto m = ModelProto.parseFrom(model);
                ModelProto.Builder b = m.toBuilder().clearOpsetImport();
                long[] versions = {0, -3, 26, 9999, Long.MAX_VALUE, Long.MIN_VALUE};
                String what;
                switch (r.nextInt(3)) {
                    case 0 -> {
                        long v = versions[r.nextInt(versions.length)];
                        b.addOpsetImport(
                                OperatorSetIdProto.newBuilder().setDomain("").setVersion(v));
                        what = "opset " + v;
                    }
                    case 1 -> {
                        b.addOpsetImport(OperatorSetIdProto.newBuilder()
                                .setDomain("com.example")
                                .setVersion(1));
                        what = "no default-domain opset";
                    }
                    default -> {
                        b.addOpsetImport(
                                OperatorSetIdProto.newBuilder().setDomain("").setVersion(13));
                        b.addOpsetImport(OperatorSetIdProto.newBuilder()
                                .setDomain("ai.onnx")
                                .setVersion(11));
                        what = "the default domain imported twice";
                    }
                }
                byte[] bytes = b.build().toByteArray();
                return upload(c, what, bytes, bytes.length);
            }
            case 5 -> {
                byte[] h = new byte[32];
                r.nextBytes(h);
                String id = HexFormat.of().formatHex(h);
                if (r.nextBoolean()) {
                    return call(
                            "Run of unknown model " + id,
                            () -> TestClient.runBytes(
                                    c,
                                    RunRequest.newBuilder()
                                            .setModelId(id)
                                            .addInputs(TestClient.input("x", 1, 2, 3, 4))
                                            .build()));
                }
                return call(
                        "RunLayer of unknown model " + id,
                        () -> DeviceAgentGrpc.newBlockingStub(c)
                                .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                                .runLayer(RunLayerRequest.newBuilder()
                                        .setModelId(id)
                                        .setLayer("y")
                                        .build()));
            }
            case 6 -> {
                String[] ids = {
                    "",
                    "../../etc/passwd",
                    "/tmp/model.onnx",
                    modelId.toUpperCase(Locale.ROOT),
                    modelId.substring(1),
                    modelId + "0",
                    "model.onnx"
                };
                String id = ids[r.nextInt(ids.length)];
                return call(
                        "Run of model id '" + id + "'",
                        () -> TestClient.runBytes(
                                c,
                                RunRequest.newBuilder()
                                        .setModelId(id)
                                        .addInputs(TestClient.input("x", 1, 2, 3, 4))
                                        .build()));
            }
            case 7 -> {
                Tensor good = TestClient.input("x", 1, 2, 3, 4);
                List<Tensor> inputs = new ArrayList<>();
                String what;
                switch (r.nextInt(9)) {
                    case 0 -> {
                        inputs.add(good.toBuilder()
                                .clearShape()
                                .addShape(Integer.MAX_VALUE)
                                .addShape(Integer.MAX_VALUE)
                                .addShape(Integer.MAX_VALUE)
                                .addShape(4)
                                .build());
                        what = "absurd shape";
                    }
                    case 1 -> {
                        inputs.add(good.toBuilder()
                                .clearShape()
                                .addShape(-1)
                                .addShape(-4)
                                .build());
                        what = "negative dimensions";
                    }
                    case 2 -> {
                        inputs.add(good.toBuilder()
                                .setData(ByteString.copyFrom(new byte[r.nextInt(15)]))
                                .build());
                        what = "data shorter than the shape";
                    }
                    case 3 -> {
                        inputs.add(good.toBuilder().setDtype(DataType.INT8).build());
                        what = "INT8 input";
                    }
                    case 4 -> {
                        for (int k = 0; k < AgentConfig.DEFAULT_MAX_INPUT_TENSORS + 1; k++) {
                            inputs.add(good.toBuilder().setName("x" + k).build());
                        }
                        what = "too many tensors";
                    }
                    case 5 -> {
                        inputs.add(good);
                        inputs.add(good);
                        what = "an input given twice";
                    }
                    case 6 -> {
                        inputs.add(good.toBuilder().setName("images").build());
                        what = "an unknown input name";
                    }
                    case 7 -> {
                        Tensor.Builder t = good.toBuilder().clearShape();
                        for (int k = 0; k < 17; k++) {
                            t.addShape(1);
                        }
                        inputs.add(t.addShape(4).build());
                        what = "rank 18";
                    }
                    default -> {
                        inputs.add(TestClient.input("x", new int[] {1, 3}, 1, 2, 3));
                        what = "the wrong shape";
                    }
                }
                return call(
                        "Run with " + what,
                        () -> TestClient.runBytes(
                                c,
                                RunRequest.newBuilder()
                                        .setModelId(modelId)
                                        .addAllInputs(inputs)
                                        .build()));
            }
            case 8 -> {
                int shape = r.nextInt(3);
                String what = shape == 0 ? "data before the header" : shape == 1 ? "two headers" : "no messages";
                CompletableFuture<UploadModelResponse> result = new CompletableFuture<>();
                StreamObserver<UploadModelRequest> up = DeviceAgentGrpc.newStub(c)
                        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                        .uploadModel(observer(result));
                UploadModelRequest header = UploadModelRequest.newBuilder()
                        .setHeader(ModelHeader.newBuilder().setName("m").setSize(model.length))
                        .build();
                UploadModelRequest data = UploadModelRequest.newBuilder()
                        .setData(ByteString.copyFrom(model))
                        .build();
                if (shape == 0) {
                    up.onNext(data);
                    up.onNext(header);
                } else if (shape == 1) {
                    up.onNext(header);
                    up.onNext(header);
                    up.onNext(data);
                }
                up.onCompleted();
                return await(what, result);
            }
            default -> {
                byte[] junk = new byte[1 + r.nextInt(256)];
                r.nextBytes(junk);
                boolean asRequest = r.nextBoolean();
                if (asRequest) {
                    return call("random bytes as a RunRequest", () -> rawRun(c, junk));
                }
                return call(
                        "an unknown dump format",
                        () -> TestClient.runBytes(
                                c,
                                RunRequest.newBuilder()
                                        .setModelId(modelId)
                                        .setFormatValue(77)
                                        .addInputs(TestClient.input("x", 1, 2, 3, 4))
                                        .build()));
            }
        }
    }

    private static String upload(Channel c, String what, byte[] bytes, long declaredSize) throws Exception {
        CompletableFuture<UploadModelResponse> result = new CompletableFuture<>();
        StreamObserver<UploadModelRequest> up = DeviceAgentGrpc.newStub(c)
                .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .uploadModel(observer(result));
        up.onNext(UploadModelRequest.newBuilder()
                .setHeader(ModelHeader.newBuilder().setName("m.onnx").setSize(declaredSize))
                .build());
        up.onNext(UploadModelRequest.newBuilder()
                .setData(ByteString.copyFrom(bytes))
                .build());
        up.onCompleted();
        return await(what, result);
    }

    private static String await(String what, CompletableFuture<UploadModelResponse> result) throws Exception {
        try {
            result.get(DEADLINE_SECONDS, TimeUnit.SECONDS);
            return what;
        } catch (ExecutionException e) {
            throw new MalformedCall(what, (StatusRuntimeException) e.getCause());
        }
    }

    private static StreamObserver<UploadModelResponse> observer(CompletableFuture<UploadModelResponse> result) {
        return new StreamObserver<>() {
            @Override
            public void onNext(UploadModelResponse value) {
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

    private interface Call {
        void run() throws Exception;
    }

    private static String call(String what, Call call) throws Exception {
        try {
            call.run();
            return what;
        } catch (StatusRuntimeException e) {
            throw new MalformedCall(what, e);
        }
    }

    private static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    /** Sends bytes as they are where a RunRequest belongs. */
    private static void rawRun(Channel c, byte[] bytes) {
        MethodDescriptor<byte[], byte[]> method =
                DeviceAgentGrpc.getRunMethod().toBuilder(RAW, RAW).build();
        ClientCalls.blockingServerStreamingCall(
                        c, method, CallOptions.DEFAULT.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS), bytes)
                .forEachRemaining(b -> {});
    }
}
