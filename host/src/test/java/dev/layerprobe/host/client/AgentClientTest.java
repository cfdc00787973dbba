package dev.layerprobe.host.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.TensorBytes;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.proto.v1.DeviceInfo;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.GetInfoRequest;
import dev.layerprobe.proto.v1.LayerChunk;
import dev.layerprobe.proto.v1.LayerEnd;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.QuantInfo;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.RunRequest;
import dev.layerprobe.proto.v1.RunSummary;
import dev.layerprobe.proto.v1.UploadModelRequest;
import dev.layerprobe.proto.v1.UploadModelResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AgentClientTest {
    /** A scripted agent: answers GetInfo, checks uploads, and streams two layers per Run. */
    static final class FakeAgent extends DeviceAgentGrpc.DeviceAgentImplBase {
        volatile boolean corruptSecondLayer;
        volatile Status runError;
        volatile boolean hangInfo;
        /** Send the first header, then keep the call open, as a slow device would. */
        volatile boolean holdRunOpen;

        final List<UploadModelRequest> uploads = new ArrayList<>();
        volatile RunRequest lastRun;
        final CountDownLatch runCancelled = new CountDownLatch(1);

        static final float[] FLOATS = {1.5f, -2f, 0f, 7f, 3f};
        static final int[] CODES = {-128, -1, 0, 5, 127, 3};

        @Override
        public void getInfo(GetInfoRequest request, StreamObserver<DeviceInfo> out) {
            if (hangInfo) {
                return;
            }
            out.onNext(DeviceInfo.newBuilder()
                    .setDevice("fake-npu")
                    .setBackend("simulator")
                    .build());
            out.onCompleted();
        }

        @Override
        public StreamObserver<UploadModelRequest> uploadModel(StreamObserver<UploadModelResponse> out) {
            return new StreamObserver<>() {
                final ByteArrayOutputStream data = new ByteArrayOutputStream();
                String sha;

                @Override
                public void onNext(UploadModelRequest r) {
                    synchronized (uploads) {
                        uploads.add(r);
                    }
                    if (r.hasHeader()) {
                        sha = r.getHeader().getSha256();
                    } else {
                        data.writeBytes(r.getData().toByteArray());
                    }
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    String got = Sha256.hexOf(data.toByteArray());
                    if (!got.equals(sha)) {
                        out.onError(Status.INVALID_ARGUMENT
                                .withDescription("sha256 mismatch")
                                .asRuntimeException());
                        return;
                    }
                    out.onNext(UploadModelResponse.newBuilder()
                            .setModelId(got)
                            .setSize(data.size())
                            .build());
                    out.onCompleted();
                }
            };
        }

        @Override
        public void run(RunRequest request, StreamObserver<RunEvent> out) {
            lastRun = request;
            ((ServerCallStreamObserver<RunEvent>) out).setOnCancelHandler(runCancelled::countDown);
            if (runError != null) {
                out.onError(runError.asRuntimeException());
                return;
            }
            LayerHeader f = LayerHeader.newBuilder()
                    .setIndex(0)
                    .setName("conv")
                    .setOp("Conv")
                    .addShape(1)
                    .addShape(5)
                    .setDtype(DataType.FLOAT32)
                    .setSizeBytes(20)
                    .setPlacement("npu")
                    .build();
            if (holdRunOpen) {
                out.onNext(RunEvent.newBuilder().setHeader(f).build());
                return;
            }
            send(out, f, TensorBytes.encodeFloats(FLOATS, 0, FLOATS.length), 8, false);
            LayerHeader q = LayerHeader.newBuilder()
                    .setIndex(1)
                    .setName("relu")
                    .setOp("Relu")
                    .addShape(2)
                    .addShape(3)
                    .setDtype(DataType.INT8)
                    .setSizeBytes(6)
                    .setQuant(QuantInfo.newBuilder().addScale(0.5f).addZeroPoint(-1))
                    .build();
            send(out, q, TensorBytes.encodeCodes(DType.INT8, CODES, 0, CODES.length), 4, corruptSecondLayer);
            out.onNext(RunEvent.newBuilder()
                    .setSummary(
                            RunSummary.newBuilder().setRunId("r1").setLayers(2).setTotalBytes(26))
                    .build());
            out.onCompleted();
        }

        private static void send(StreamObserver<RunEvent> out, LayerHeader h, byte[] data, int chunk, boolean corrupt) {
            out.onNext(RunEvent.newBuilder().setHeader(h).build());
            String sha = Sha256.hexOf(data);
            byte[] sent = data.clone();
            if (corrupt) {
                sent[sent.length - 1] ^= 1;
            }
            for (int off = 0; off < sent.length; off += chunk) {
                int n = Math.min(chunk, sent.length - off);
                out.onNext(RunEvent.newBuilder()
                        .setChunk(LayerChunk.newBuilder()
                                .setIndex(h.getIndex())
                                .setOffset(off)
                                .setData(ByteString.copyFrom(sent, off, n)))
                        .build());
            }
            out.onNext(RunEvent.newBuilder()
                    .setEnd(LayerEnd.newBuilder().setIndex(h.getIndex()).setSha256(sha))
                    .build());
        }
    }

    /** Records what the client hands a sink. */
    static final class RecordingSink implements LayerSink {
        final List<String> events = new ArrayList<>();
        IOException failOn;

        @Override
        public void begin(LayerHeader h) throws IOException {
            events.add("begin " + h.getName());
            if (failOn != null) {
                throw failOn;
            }
        }

        @Override
        public void chunk(LayerHeader h, long offset, byte[] data) {
            events.add("chunk " + h.getName() + "@" + offset + "+" + data.length);
        }

        @Override
        public void end(LayerHeader h, String sha256) {
            events.add("end " + h.getName());
        }

        @Override
        public void summary(RunSummary s) {
            events.add("summary " + s.getLayers());
        }
    }

    private final FakeAgent agent = new FakeAgent();
    private Server server;
    private AgentClient client;

    @BeforeEach
    void start() throws IOException {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name)
                .directExecutor()
                .addService(agent)
                .build()
                .start();
        ManagedChannel ch =
                InProcessChannelBuilder.forName(name).directExecutor().build();
        client = new AgentClient(ch, "fake:1", new AgentClient.Options(Duration.ofSeconds(5), Duration.ofSeconds(10)));
    }

    @AfterEach
    void stop() {
        client.close();
        server.shutdownNow();
    }

    @Test
    void info() throws AgentException {
        assertEquals("fake-npu", client.info().getDevice());
    }

    @Test
    void uploadSendsHeaderThenMebibyteChunks() throws AgentException {
        byte[] model = new byte[(5 << 20) / 2];
        for (int i = 0; i < model.length; i++) {
            model[i] = (byte) (i * 31);
        }
        String id = client.upload(model, "m.onnx");
        assertEquals(Sha256.hexOf(model), id);
        assertEquals(4, agent.uploads.size());
        assertEquals("m.onnx", agent.uploads.get(0).getHeader().getName());
        assertEquals(model.length, agent.uploads.get(0).getHeader().getSize());
        assertEquals(1 << 20, agent.uploads.get(1).getData().size());
        assertEquals(model.length - (2 << 20), agent.uploads.get(3).getData().size());
    }

    @Test
    void runStreamsLayersIntoTheSinkInOrder() throws AgentException {
        RecordingSink sink = new RecordingSink();
        Tensor x = Tensor.ofFloats(new int[] {1, 2}, new float[] {0.25f, -1f});
        RunSummary s = client.run("abc", Map.of("x", x), DumpFormat.NATIVE, sink);
        assertEquals("r1", s.getRunId());
        assertEquals(
                List.of(
                        "begin conv",
                        "chunk conv@0+8",
                        "chunk conv@8+8",
                        "chunk conv@16+4",
                        "end conv",
                        "begin relu",
                        "chunk relu@0+4",
                        "chunk relu@4+2",
                        "end relu",
                        "summary 2"),
                sink.events);
        assertEquals("abc", agent.lastRun.getModelId());
        assertEquals(DumpFormat.NATIVE, agent.lastRun.getFormat());
        dev.layerprobe.proto.v1.Tensor in = agent.lastRun.getInputs(0);
        assertEquals(DataType.FLOAT32, in.getDtype());
        assertArrayEquals(
                new float[] {0.25f, -1f},
                WireTensors.decode(in.getDtype(), new int[] {1, 2}, in.getData().toByteArray())
                        .floats());
    }

    @Test
    void aRunIsStoredOnTheDeviceUnlessAskedForTheStreamOnly() throws AgentException {
        client.run("abc", Map.of(), DumpFormat.NATIVE, new RecordingSink());
        assertFalse(agent.lastRun.getStreamOnly());
        client.run("abc", Map.of(), DumpFormat.NATIVE, 4096, true, new RecordingSink());
        assertTrue(agent.lastRun.getStreamOnly());
        assertEquals(4096, agent.lastRun.getChunkBytes());
    }

    @Test
    void decodedLayersCarryCodesAndQuantization() throws AgentException {
        List<String> names = new ArrayList<>();
        List<LayerValue> values = new ArrayList<>();
        client.run("abc", Map.of(), DumpFormat.NATIVE, (h, v) -> {
            names.add(h.getName());
            values.add(v);
        });
        assertEquals(List.of("conv", "relu"), names);
        assertFalse(values.get(0).isQuantized());
        assertArrayEquals(FakeAgent.FLOATS, values.get(0).real().floats());
        assertArrayEquals(new int[] {1, 5}, values.get(0).shape());
        LayerValue relu = values.get(1);
        assertTrue(relu.isQuantized());
        assertArrayEquals(FakeAgent.CODES, relu.codes().codes());
        assertEquals(0.5f, relu.codes().params().scale(0));
        assertEquals(-1, relu.codes().params().zeroPoint(0));
        assertEquals(0.5f * (127 + 1), relu.real().floats()[4]);

        LayerCollector keep = new LayerCollector(1 << 20);
        client.run("abc", Map.of(), DumpFormat.NATIVE, keep);
        assertEquals("relu", keep.layers().get(1).name());
    }

    @Test
    void aCorruptLayerFailsTheRunAndIsNeverEnded() {
        agent.corruptSecondLayer = true;
        RecordingSink sink = new RecordingSink();
        AgentException e =
                assertThrows(AgentException.class, () -> client.run("abc", Map.of(), DumpFormat.NATIVE, sink));
        assertEquals(AgentException.Code.CHECKSUM, e.code());
        assertTrue(
                e.getMessage().startsWith("layer 'relu' (#1, Relu, [2, 3] INT8) from fake:1 is corrupt: sha256"),
                e.getMessage());
        assertTrue(sink.events.contains("end conv"));
        assertFalse(sink.events.contains("end relu"));
    }

    @Test
    void aFailingSinkCancelsTheRun() throws InterruptedException {
        agent.holdRunOpen = true;
        RecordingSink sink = new RecordingSink();
        sink.failOn = new IOException("disk full");
        AgentException e =
                assertThrows(AgentException.class, () -> client.run("abc", Map.of(), DumpFormat.NATIVE, sink));
        assertEquals(AgentException.Code.SINK, e.code());
        assertTrue(e.getMessage().endsWith("disk full"), e.getMessage());
        assertTrue(agent.runCancelled.await(5, TimeUnit.SECONDS), "the agent saw the cancellation");
    }

    @Test
    void remoteErrorsCarryTheStatusDescription() {
        agent.runError = Status.NOT_FOUND.withDescription("unknown model 'abc'");
        AgentException e = assertThrows(
                AgentException.class, () -> client.run("abc", Map.of(), DumpFormat.FLOAT, new RecordingSink()));
        assertEquals(AgentException.Code.REMOTE, e.code());
        assertEquals(Status.Code.NOT_FOUND, e.status());
        assertEquals("device at fake:1 failed Run: NOT_FOUND: unknown model 'abc'", e.getMessage());
    }

    @Test
    void deadlinesAreEnforced() throws IOException {
        agent.hangInfo = true;
        String name = InProcessServerBuilder.generateName();
        Server s =
                InProcessServerBuilder.forName(name).addService(agent).build().start();
        try (AgentClient c = new AgentClient(
                InProcessChannelBuilder.forName(name).build(),
                "slow:1",
                new AgentClient.Options(Duration.ofMillis(200), Duration.ofSeconds(1)))) {
            AgentException e = assertThrows(AgentException.class, c::info);
            assertEquals(AgentException.Code.DEADLINE_EXCEEDED, e.code());
            assertEquals("device at slow:1 did not finish GetInfo within 200 ms (deadline exceeded)", e.getMessage());
        } finally {
            s.shutdownNow();
        }
    }

    @Test
    void aClosedPortIsUnavailable() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        try (AgentClient c = AgentClient.connect("127.0.0.1:" + port)) {
            AgentException e = assertThrows(AgentException.class, c::info);
            assertEquals(AgentException.Code.UNAVAILABLE, e.code());
            assertTrue(e.getMessage().startsWith("cannot reach device at 127.0.0.1:" + port + ": "), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
    }

    @Test
    void badAddressesAreRejected() {
        AgentException e = assertThrows(AgentException.class, () -> AgentClient.connect("localhost"));
        assertEquals(AgentException.Code.BAD_ADDRESS, e.code());
        assertEquals("bad device address 'localhost', expected HOST:PORT (e.g. 127.0.0.1:50051)", e.getMessage());
        assertThrows(AgentException.class, () -> AgentClient.connect("host:99999"));
    }
}
