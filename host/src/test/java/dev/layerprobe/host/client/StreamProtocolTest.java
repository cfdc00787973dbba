package dev.layerprobe.host.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.LayerChunk;
import dev.layerprobe.proto.v1.LayerEnd;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.PullDumpRequest;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.RunRequest;
import dev.layerprobe.proto.v1.RunSummary;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What the client says when an agent breaks the framing of a Run or PullDump stream: each case is a
 * scripted stream and the exact one-line message it must produce.
 */
class StreamProtocolTest {
    private static final byte[] CONV = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    private static final LayerHeader CONV_HEADER = LayerHeader.newBuilder()
            .setIndex(0)
            .setName("conv")
            .setOp("Conv")
            .addShape(1)
            .addShape(5)
            .setDtype(DataType.FLOAT32)
            .setSizeBytes(CONV.length)
            .build();
    private static final LayerHeader RELU_HEADER = LayerHeader.newBuilder()
            .setIndex(1)
            .setName("relu")
            .setOp("Relu")
            .addShape(2)
            .addShape(3)
            .setDtype(DataType.INT8)
            .setSizeBytes(6)
            .build();
    private static final String CONV_NAME = "layer 'conv' (#0, Conv, [1, 5] FLOAT32)";

    /** Answers Run and PullDump with whatever {@link #script} holds, then completes. */
    static final class ScriptedAgent extends DeviceAgentGrpc.DeviceAgentImplBase {
        volatile List<RunEvent> script = List.of();
        volatile PullDumpRequest lastPull;

        @Override
        public void run(RunRequest request, StreamObserver<RunEvent> out) {
            script.forEach(out::onNext);
            out.onCompleted();
        }

        @Override
        public void pullDump(PullDumpRequest request, StreamObserver<RunEvent> out) {
            lastPull = request;
            script.forEach(out::onNext);
            out.onCompleted();
        }
    }

    private final ScriptedAgent agent = new ScriptedAgent();
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
        client = new AgentClient(
                InProcessChannelBuilder.forName(name).directExecutor().build(),
                "fake:1",
                new AgentClient.Options(Duration.ofSeconds(5), Duration.ofSeconds(10)));
    }

    @AfterEach
    void stop() {
        client.close();
        server.shutdownNow();
    }

    static RunEvent header(LayerHeader h) {
        return RunEvent.newBuilder().setHeader(h).build();
    }

    static RunEvent chunk(int index, long offset, int from, int to) {
        return RunEvent.newBuilder()
                .setChunk(LayerChunk.newBuilder()
                        .setIndex(index)
                        .setOffset(offset)
                        .setData(ByteString.copyFrom(CONV, from, to - from)))
                .build();
    }

    static RunEvent end(int index) {
        return RunEvent.newBuilder()
                .setEnd(LayerEnd.newBuilder().setIndex(index).setSha256(Sha256.hexOf(CONV)))
                .build();
    }

    static RunEvent summary() {
        return RunEvent.newBuilder()
                .setSummary(RunSummary.newBuilder().setRunId("r1").setLayers(1))
                .build();
    }

    static Stream<Arguments> brokenRuns() {
        return Stream.of(
                Arguments.of(
                        List.of(header(CONV_HEADER), chunk(0, 8, 0, 8)),
                        "chunk of " + CONV_NAME + " at offset 8, expected 0"),
                Arguments.of(
                        List.of(header(CONV_HEADER), chunk(0, 0, 0, 20), chunk(0, 20, 0, 4)),
                        CONV_NAME + " sent 24 bytes, its header says 20"),
                Arguments.of(
                        List.of(header(CONV_HEADER), chunk(0, 0, 0, 8), end(0)),
                        CONV_NAME + " ended after 8 bytes, its header says 20"),
                Arguments.of(
                        List.of(header(CONV_HEADER), chunk(3, 0, 0, 8)),
                        "chunk of layer #3 arrived inside " + CONV_NAME),
                Arguments.of(List.of(chunk(0, 0, 0, 8)), "chunk of layer #0 arrived outside a layer"),
                Arguments.of(List.of(end(0)), "end of layer #0 arrived outside a layer"),
                Arguments.of(
                        List.of(header(CONV_HEADER), chunk(0, 0, 0, 20), end(1)),
                        "end of layer #1 arrived inside " + CONV_NAME),
                Arguments.of(
                        List.of(header(CONV_HEADER), header(RELU_HEADER)),
                        "header of layer 'relu' arrived before the end of " + CONV_NAME),
                Arguments.of(List.of(header(CONV_HEADER), summary()), "summary arrived inside " + CONV_NAME),
                Arguments.of(
                        List.of(header(CONV_HEADER), chunk(0, 0, 0, 20), end(0)), "the stream ended without a summary"),
                Arguments.of(List.of(header(CONV_HEADER), chunk(0, 0, 0, 20)), "the stream ended inside " + CONV_NAME),
                Arguments.of(List.of(RunEvent.getDefaultInstance()), "empty run event"));
    }

    @ParameterizedTest
    @MethodSource("brokenRuns")
    void aBrokenRunStreamIsAProtocolError(List<RunEvent> script, String what) {
        agent.script = script;
        AgentException e = assertThrows(
                AgentException.class, () -> client.run("m", Map.of(), DumpFormat.NATIVE, new LayerCollector(1 << 20)));
        assertEquals(AgentException.Code.PROTOCOL, e.code());
        assertEquals("device at fake:1 broke the Run protocol: " + what, e.getMessage());
    }

    @Test
    void aWellFramedRunPassesItsLayerOn() throws AgentException {
        agent.script = List.of(header(CONV_HEADER), chunk(0, 0, 0, 12), chunk(0, 12, 12, 20), end(0), summary());
        LayerCollector keep = new LayerCollector(1 << 20);
        assertEquals("r1", client.run("m", Map.of(), DumpFormat.NATIVE, keep).getRunId());
        assertEquals(
                List.of("conv"), keep.layers().stream().map(DecodedLayer::name).toList());
    }

    static Stream<Arguments> brokenPulls() {
        return Stream.of(
                Arguments.of(List.of(header(RELU_HEADER)), "header of layer 'relu' (#1, Relu, [2, 3] INT8)"),
                Arguments.of(
                        List.of(header(CONV_HEADER.toBuilder().setSizeBytes(24).build())),
                        "header of layer 'conv' (#0, Conv, [1, 5] FLOAT32)"),
                Arguments.of(List.of(header(CONV_HEADER), chunk(0, 8, 8, 12)), "a chunk at offset 8, expected 4"),
                Arguments.of(
                        List.of(header(CONV_HEADER), chunk(0, 4, 4, 20), chunk(0, 20, 0, 1)),
                        "a chunk at offset 20, expected 20"),
                Arguments.of(List.of(header(CONV_HEADER), summary()), "a SUMMARY event"),
                Arguments.of(List.of(RunEvent.getDefaultInstance()), "a EVENT_NOT_SET event"),
                Arguments.of(
                        List.of(header(CONV_HEADER), chunk(0, 4, 4, 12), end(0)),
                        "the stream ended after 12 of 20 bytes"),
                Arguments.of(
                        List.of(header(CONV_HEADER), chunk(0, 4, 4, 20)), "the stream ended after 20 of 20 bytes"));
    }

    @ParameterizedTest
    @MethodSource("brokenPulls")
    void aBrokenPullStreamIsAProtocolError(List<RunEvent> script, String what) {
        agent.script = script;
        AgentException e = assertThrows(
                AgentException.class,
                () -> client.pullLayer("r1", CONV_HEADER, 4, 0, data -> data.position(data.limit())));
        assertEquals(AgentException.Code.PROTOCOL, e.code());
        assertEquals("device at fake:1 broke the PullDump protocol for " + CONV_NAME + ": " + what, e.getMessage());
    }

    @Test
    void aPullHandsOverTheBytesFromItsOffsetAndReturnsTheStoredChecksum() throws AgentException {
        agent.script = List.of(header(CONV_HEADER), chunk(0, 4, 4, 9), chunk(0, 9, 9, 20), end(0));
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        List<Integer> pieces = new ArrayList<>();
        String sha = client.pullLayer("r1", CONV_HEADER, 4, 5, data -> {
            pieces.add(data.remaining());
            while (data.hasRemaining()) {
                got.write(data.get());
            }
        });
        assertEquals(Sha256.hexOf(CONV), sha);
        assertEquals(List.of(5, 11), pieces);
        assertArrayEquals(java.util.Arrays.copyOfRange(CONV, 4, 20), got.toByteArray());
        assertEquals(
                PullDumpRequest.newBuilder()
                        .setRunId("r1")
                        .setLayer(0)
                        .setOffset(4)
                        .setChunkBytes(5)
                        .build(),
                agent.lastPull);
    }

    @Test
    void aFailingPullSinkIsASinkError() {
        agent.script = List.of(header(CONV_HEADER), chunk(0, 0, 0, 20), end(0));
        AgentException e = assertThrows(
                AgentException.class,
                () -> client.pullLayer("r1", CONV_HEADER, 0, 0, data -> {
                    throw new IOException("disk full");
                }));
        assertEquals(AgentException.Code.SINK, e.code());
        assertEquals("writing " + CONV_NAME + " pulled from fake:1 failed: disk full", e.getMessage());
    }
}
