package dev.layerprobe.agent;

import com.google.protobuf.ByteString;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.proto.v1.ModelHeader;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.RunRequest;
import dev.layerprobe.proto.v1.Tensor;
import dev.layerprobe.proto.v1.UploadModelRequest;
import dev.layerprobe.proto.v1.UploadModelResponse;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Protocol calls for access and fault tests, each with a deadline. Stateless. */
public final class TestClient {
    static final long DEADLINE_SECONDS = 20;

    private TestClient() {}

    /** Uploads a model in one chunk and returns its id; fails with the call's StatusRuntimeException. */
    public static String upload(Channel channel, byte[] model) throws Exception {
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
        try {
            return result.get(DEADLINE_SECONDS, TimeUnit.SECONDS).getModelId();
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    /** A float32 tensor of shape {@code shape} holding {@code values}. */
    public static Tensor input(String name, int[] shape, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        Tensor.Builder t =
                Tensor.newBuilder().setName(name).setDtype(DataType.FLOAT32).setData(ByteString.copyFrom(b.array()));
        for (int d : shape) {
            t.addShape(d);
        }
        return t.build();
    }

    /** A 1xN float32 tensor. */
    public static Tensor input(String name, float... values) {
        return input(name, new int[] {1, values.length}, values);
    }

    /** Runs to the end and returns every byte of every layer's chunks, in order, and the layer count. */
    public static byte[] runBytes(Channel channel, RunRequest request) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        DeviceAgentGrpc.newBlockingStub(channel)
                .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .run(request)
                .forEachRemaining((RunEvent e) -> {
                    if (e.hasChunk()) {
                        all.writeBytes(e.getChunk().getData().toByteArray());
                    } else if (e.hasHeader()) {
                        all.writeBytes(e.getHeader().getName().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    } else if (e.hasEnd()) {
                        all.writeBytes(e.getEnd().getSha256().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    }
                });
        return all.toByteArray();
    }
}
