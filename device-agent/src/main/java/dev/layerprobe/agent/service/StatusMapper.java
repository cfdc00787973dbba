package dev.layerprobe.agent.service;

import dev.layerprobe.agent.access.AuthenticationException;
import dev.layerprobe.agent.access.MalformedRequestException;
import dev.layerprobe.core.LayerProbeException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeoutException;

/**
 * The one place where exceptions become gRPC statuses. A description is one line that names the
 * problem (the simulator's messages already name the bad value and list the valid ones); the
 * exception is attached as the cause for the server's logs and never sent to the client.
 * Stateless.
 */
public final class StatusMapper {
    /** Longer descriptions are cut: a model with thousands of unsupported nodes must not make a huge trailer. */
    static final int MAX_DESCRIPTION_CHARS = 2000;

    private StatusMapper() {}

    public static Status toStatus(Throwable t) {
        if (t instanceof StatusException e) {
            return e.getStatus();
        }
        if (t instanceof StatusRuntimeException e) {
            return e.getStatus();
        }
        Status status;
        if (t instanceof LayerProbeException e) {
            status = forCode(e.code());
        } else if (t instanceof AuthenticationException) {
            status = Status.UNAUTHENTICATED;
        } else if (t instanceof TimeoutException) {
            status = Status.DEADLINE_EXCEEDED;
        } else if (t instanceof MalformedRequestException) {
            status = Status.INVALID_ARGUMENT;
        } else if (t instanceof UnsupportedOperationException) {
            status = Status.UNIMPLEMENTED;
        } else if (t instanceof IOException || t instanceof UncheckedIOException) {
            status = Status.INTERNAL;
        } else if (t instanceof OutOfMemoryError) {
            status = Status.RESOURCE_EXHAUSTED;
        } else if (t instanceof InterruptedException) {
            // Workers are interrupted only when the agent shuts down.
            status = Status.UNAVAILABLE;
        } else {
            status = Status.INTERNAL;
        }
        return status.withDescription(describe(t)).withCause(t);
    }

    static Status forCode(LayerProbeException.Code code) {
        return switch (code) {
            case NOT_ONNX, INVALID_MODEL, BAD_INPUT -> Status.INVALID_ARGUMENT;
            // The request is well-formed; this device cannot do it.
            case UNSUPPORTED_OP, UNSUPPORTED_QUANTIZATION -> Status.UNIMPLEMENTED;
            // The agent's own profile is broken: the client cannot fix that by changing its request.
            case BAD_PROFILE -> Status.FAILED_PRECONDITION;
            case IO, RUNTIME -> Status.INTERNAL;
        };
    }

    private static String describe(Throwable t) {
        String msg = t.getMessage();
        String text;
        if (t instanceof LayerProbeException
                || t instanceof UnsupportedOperationException
                || t instanceof AuthenticationException
                || t instanceof TimeoutException
                || t instanceof MalformedRequestException) {
            text = msg == null ? t.getClass().getSimpleName() : msg;
        } else if (t instanceof IOException || t instanceof UncheckedIOException) {
            text = "I/O error on the agent: " + msg;
        } else if (t instanceof OutOfMemoryError) {
            text = "the agent ran out of memory";
        } else if (t instanceof InterruptedException) {
            text = "the agent is shutting down";
        } else {
            text = "internal error in the agent: " + t.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
        }
        return oneLine(text);
    }

    static String oneLine(String s) {
        String line = s.strip().replaceAll("\\s*\\R\\s*", "; ");
        return line.length() <= MAX_DESCRIPTION_CHARS ? line : line.substring(0, MAX_DESCRIPTION_CHARS - 3) + "...";
    }
}
