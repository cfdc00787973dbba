package dev.layerprobe.agent.service;

import com.google.protobuf.ByteString;
import dev.layerprobe.agent.backend.FakeBackend;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.ModelHeader;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.RunRequest;
import dev.layerprobe.proto.v1.Tensor;
import dev.layerprobe.proto.v1.UploadModelRequest;
import dev.layerprobe.proto.v1.UploadModelResponse;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** The test side of the protocol: uploads and runs with a deadline on every call. */
final class AgentClient {
    static final long DEADLINE_SECONDS = 20;

    private final Channel channel;

    AgentClient(Channel channel) {
        this.channel = channel;
    }

    DeviceAgentGrpc.DeviceAgentBlockingStub blocking() {
        return DeviceAgentGrpc.newBlockingStub(channel).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    DeviceAgentGrpc.DeviceAgentStub async() {
        return DeviceAgentGrpc.newStub(channel).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    /** Uploads in chunks of {@code chunk} bytes; the future fails with the call's StatusRuntimeException. */
    CompletableFuture<UploadModelResponse> upload(ModelHeader header, byte[] bytes, int chunk) {
        CompletableFuture<UploadModelResponse> result = new CompletableFuture<>();
        StreamObserver<UploadModelRequest> requests = async().uploadModel(new StreamObserver<>() {
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
        });
        requests.onNext(UploadModelRequest.newBuilder().setHeader(header).build());
        for (int off = 0; off < bytes.length; off += chunk) {
            requests.onNext(UploadModelRequest.newBuilder()
                    .setData(ByteString.copyFrom(bytes, off, Math.min(chunk, bytes.length - off)))
                    .build());
        }
        requests.onCompleted();
        return result;
    }

    /** Uploads and returns the model id. */
    String upload(byte[] bytes) throws Exception {
        return get(upload(
                        ModelHeader.newBuilder()
                                .setName("model.onnx")
                                .setSize(bytes.length)
                                .build(),
                        bytes,
                        1000))
                .getModelId();
    }

    static <T> T get(CompletableFuture<T> f) throws Exception {
        try {
            return f.get(DEADLINE_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    /** Runs and reassembles the whole stream. */
    RunCollector run(RunRequest request) {
        RunCollector c = new RunCollector();
        Iterator<RunEvent> events = blocking().run(request);
        events.forEachRemaining(c::accept);
        return c;
    }

    static RunRequest request(String modelId, DumpFormat format, int chunkBytes) {
        return RunRequest.newBuilder()
                .setModelId(modelId)
                .setFormat(format)
                .setChunkBytes(chunkBytes)
                .addInputs(input(FakeBackend.INPUT, 1f, 2f, 3f, 4f))
                .build();
    }

    static Tensor input(String name, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return Tensor.newBuilder()
                .setName(name)
                .addAllShape(List.of(1L, (long) values.length))
                .setDtype(DataType.FLOAT32)
                .setData(ByteString.copyFrom(b.array()))
                .build();
    }
}
