package dev.layerprobe.host.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;

/**
 * A call to a device agent failed. {@link #code()} says how, for callers that map errors to exit
 * codes; the message is one line naming the device and the call. This class is the one place that
 * turns gRPC statuses into host errors.
 */
public final class AgentException extends Exception {
    /** What went wrong. */
    public enum Code {
        /** The agent cannot be reached (not running, wrong address, network down). */
        UNAVAILABLE,
        /** The device address is malformed. */
        BAD_ADDRESS,
        /** The token file or the TLS CA file given for the device cannot be used. */
        BAD_CREDENTIALS,
        /** The call did not finish within its deadline. */
        DEADLINE_EXCEEDED,
        /** A layer's bytes did not hash to the sha256 the agent sent. */
        CHECKSUM,
        /** The agent broke the protocol (chunks out of order, missing summary, ...). */
        PROTOCOL,
        /** The caller's {@link LayerSink} failed (e.g. a dump could not be written). */
        SINK,
        /** The agent answered with an error status; {@link #status()} has it. */
        REMOTE,
        /** The call was interrupted or cancelled on this side. */
        CANCELLED,
        /** The devices of one analysis differ in backend, profile or model. */
        MISMATCH
    }

    private final Code code;
    private final Status.Code status;

    public AgentException(Code code, String message, Throwable cause) {
        this(code, null, message, cause);
    }

    private AgentException(Code code, Status.Code status, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.status = status;
    }

    public Code code() {
        return code;
    }

    /** The gRPC status code for a failure reported by gRPC, or null. */
    public Status.Code status() {
        return status;
    }

    /**
     * Maps a gRPC failure of {@code call} on the device at {@code target}.
     *
     * @param deadline the call's deadline, for the DEADLINE_EXCEEDED message
     */
    static AgentException fromStatus(StatusRuntimeException e, String target, String call, Duration deadline) {
        Status s = e.getStatus();
        String why = describe(s);
        return switch (s.getCode()) {
            case UNAVAILABLE ->
                new AgentException(Code.UNAVAILABLE, s.getCode(), "cannot reach device at " + target + ": " + why, e);
            case UNAUTHENTICATED ->
                new AgentException(
                        Code.REMOTE,
                        s.getCode(),
                        "device at " + target + " refused " + call + ": " + why
                                + (why.contains("--token-file") ? "" : " (check --token-file)"),
                        e);
            case DEADLINE_EXCEEDED ->
                new AgentException(
                        Code.DEADLINE_EXCEEDED,
                        s.getCode(),
                        "device at " + target + " did not finish " + call + " within " + human(deadline)
                                + " (deadline exceeded)",
                        e);
            case CANCELLED ->
                new AgentException(
                        Code.CANCELLED, s.getCode(), call + " on device at " + target + " was cancelled: " + why, e);
            default ->
                new AgentException(
                        Code.REMOTE,
                        s.getCode(),
                        "device at " + target + " failed " + call + ": " + s.getCode() + ": " + why,
                        e);
        };
    }

    /**
     * The device at {@code target} broke a stream's framing.
     *
     * @param protocol what it broke, e.g. "Run protocol"
     * @param what what it sent, or did not
     */
    static AgentException brokenProtocol(String target, String protocol, String what) {
        return new AgentException(Code.PROTOCOL, "device at " + target + " broke the " + protocol + ": " + what, null);
    }

    private static String describe(Status s) {
        String d = s.getDescription();
        Throwable c = s.getCause();
        while (c != null && c.getCause() != null && c.getMessage() == null) {
            c = c.getCause();
        }
        String cause = c == null || c.getMessage() == null ? null : c.getMessage();
        String out = d == null ? cause : cause == null || d.contains(cause) ? d : d + " (" + cause + ")";
        return out == null
                ? s.getCode().toString()
                : out.lines().findFirst().orElse(out).trim();
    }

    static String human(Duration d) {
        if (d.toMillis() % 60_000 == 0 && d.toMinutes() > 0) {
            return d.toMinutes() + " min";
        }
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
