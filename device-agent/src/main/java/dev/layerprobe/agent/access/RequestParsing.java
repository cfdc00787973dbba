package dev.layerprobe.agent.access;

import dev.layerprobe.agent.service.StatusMapper;
import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Moves the parsing of request messages from the transport into the call, so that bytes which are
 * not a valid message get INVALID_ARGUMENT with a reason. gRPC parses requests before any
 * interceptor or handler sees them and answers a failure with UNKNOWN ("Application error
 * processing RPC"), which tells a client nothing about its mistake.
 *
 * <p>{@link #of} rewrites a service so each method receives raw bytes and parses them with the
 * method's own marshaller; responses are untouched. Stateless.
 */
public final class RequestParsing {
    private RequestParsing() {}

    /** The same service, with request parsing failures answered as INVALID_ARGUMENT. */
    public static ServerServiceDefinition of(ServerServiceDefinition service) {
        ServiceDescriptor original = service.getServiceDescriptor();
        List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
        List<MethodDescriptor<?, ?>> descriptors = new ArrayList<>();
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
            ServerMethodDefinition<byte[], ?> raw = raw(m);
            methods.add(raw);
            descriptors.add(raw.getMethodDescriptor());
        }
        ServiceDescriptor.Builder sd =
                ServiceDescriptor.newBuilder(original.getName()).setSchemaDescriptor(original.getSchemaDescriptor());
        descriptors.forEach(sd::addMethod);
        ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(sd.build());
        methods.forEach(out::addMethod);
        return out.build();
    }

    private static <Q, R> ServerMethodDefinition<byte[], R> raw(ServerMethodDefinition<Q, R> definition) {
        MethodDescriptor<Q, R> method = definition.getMethodDescriptor();
        MethodDescriptor<byte[], R> rawMethod =
                method.toBuilder(BYTES, method.getResponseMarshaller()).build();
        ServerCallHandler<Q, R> handler = definition.getServerCallHandler();
        return ServerMethodDefinition.create(rawMethod, (call, headers) -> start(method, handler, call, headers));
    }

    private static <Q, R> ServerCall.Listener<byte[]> start(
            MethodDescriptor<Q, R> method,
            ServerCallHandler<Q, R> next,
            ServerCall<byte[], R> rawCall,
            Metadata headers) {
        ServerCall.Listener<Q> listener = next.startCall(new TypedCall<>(rawCall, method), headers);
        return new ServerCall.Listener<>() {
            private boolean refused;

            @Override
            public void onMessage(byte[] message) {
                if (refused) {
                    return;
                }
                Q parsed;
                try {
                    parsed = method.parseRequest(new ByteArrayInputStream(message));
                } catch (RuntimeException e) {
                    refused = true;
                    Throwable cause = e.getCause() == null ? e : e.getCause();
                    rawCall.close(
                            StatusMapper.toStatus(new MalformedRequestException(
                                    "the request is not a valid " + method.getFullMethodName() + " message: "
                                            + cause.getMessage(),
                                    e)),
                            new Metadata());
                    // The handler learns that its call is over, as if the client had cancelled.
                    listener.onCancel();
                    return;
                }
                listener.onMessage(parsed);
            }

            @Override
            public void onHalfClose() {
                if (!refused) {
                    listener.onHalfClose();
                }
            }

            @Override
            public void onCancel() {
                if (!refused) {
                    listener.onCancel();
                }
            }

            @Override
            public void onComplete() {
                if (!refused) {
                    listener.onComplete();
                }
            }

            @Override
            public void onReady() {
                if (!refused) {
                    listener.onReady();
                }
            }
        };
    }

    /** The call as the handler expects it: typed requests, the original method descriptor. */
    private static final class TypedCall<Q, R> extends ServerCall<Q, R> {
        private final ServerCall<byte[], R> raw;
        private final MethodDescriptor<Q, R> method;

        TypedCall(ServerCall<byte[], R> raw, MethodDescriptor<Q, R> method) {
            this.raw = raw;
            this.method = method;
        }

        @Override
        public void request(int numMessages) {
            raw.request(numMessages);
        }

        @Override
        public void sendHeaders(Metadata headers) {
            raw.sendHeaders(headers);
        }

        @Override
        public void sendMessage(R message) {
            raw.sendMessage(message);
        }

        @Override
        public void close(Status status, Metadata trailers) {
            raw.close(status, trailers);
        }

        @Override
        public boolean isReady() {
            return raw.isReady();
        }

        @Override
        public boolean isCancelled() {
            return raw.isCancelled();
        }

        @Override
        public void setMessageCompression(boolean enabled) {
            raw.setMessageCompression(enabled);
        }

        @Override
        public void setCompression(String compressor) {
            raw.setCompression(compressor);
        }

        @Override
        public void setOnReadyThreshold(int numBytes) {
            raw.setOnReadyThreshold(numBytes);
        }

        @Override
        public Attributes getAttributes() {
            return raw.getAttributes();
        }

        @Override
        public String getAuthority() {
            return raw.getAuthority();
        }

        @Override
        public SecurityLevel getSecurityLevel() {
            return raw.getSecurityLevel();
        }

        @Override
        public MethodDescriptor<Q, R> getMethodDescriptor() {
            return method;
        }
    }

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
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
}
