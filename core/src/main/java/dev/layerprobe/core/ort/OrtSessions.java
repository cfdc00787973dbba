package dev.layerprobe.core.ort;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.OneLine;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * ONNX Runtime session setup, shared by the golden runner on the host and the {@code ort} backend
 * on the agent: loading the native library, creating a session, and turning ONNX Runtime's
 * errors into one-line {@link LayerProbeException}s with a code. Stateless; the environment is
 * ONNX Runtime's process-wide singleton.
 */
public final class OrtSessions {
    /** How ONNX Runtime 1.x words a load failure for an operator it does not know. */
    private static final List<String> UNKNOWN_OP_MESSAGES =
            List.of("No Op registered for", "is not a registered function/op");

    private OrtSessions() {}

    /**
     * ONNX Runtime's environment, loading its native library on first use.
     *
     * @throws LayerProbeException code RUNTIME naming the platform and the loader's reason when the
     *     natives cannot be loaded (a board the jar carries none for, a broken install)
     */
    public static OrtEnvironment environment() throws LayerProbeException {
        try {
            return OrtEnvironment.getEnvironment();
        } catch (RuntimeException | LinkageError e) {
            // The jar carries natives for linux-x64/aarch64, macOS and Windows x64; anything else lands
            // here, first as ExceptionInInitializerError, then as NoClassDefFoundError: both are linkage errors.
            throw new LayerProbeException(
                    Code.RUNTIME, "cannot load ONNX Runtime on " + platform() + ": " + messages(e), e);
        }
    }

    /**
     * A session on a serialized model, whose threads sleep rather than spin between runs.
     *
     * @param intraOpThreads threads for one operator, or 0 for ONNX Runtime's default
     * @param name names the model in error messages
     * @throws LayerProbeException as {@link #loadError} says
     */
    public static OrtSession open(byte[] model, int intraOpThreads, String name) throws LayerProbeException {
        return open(model, intraOpThreads, ExecutionProviders.CPU, name);
    }

    /**
     * A session on a serialized model whose nodes the given execution providers take first.
     *
     * @throws LayerProbeException as {@link #loadError} says, also when a provider fails to register
     */
    public static OrtSession open(byte[] model, int intraOpThreads, ExecutionProviders providers, String name)
            throws LayerProbeException {
        OrtEnvironment env = environment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            if (intraOpThreads > 0) {
                options.setIntraOpNumThreads(intraOpThreads);
            }
            // ORT's pool otherwise busy-waits after every run; LayerProbe runs it next to its own
            // work (the simulator, the comparisons, the device's stream), which spinning starves:
            // on two cores a golden run took 5x as long. Sleeping threads change no result.
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            // Warnings go to the process's stderr, past LayerProbe's one-line errors: an exposed QDQ
            // model alone makes one per zero point ONNX Runtime's optimizer folds away.
            options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            providers.apply(options);
            return env.createSession(model, options);
        } catch (OrtException e) {
            throw loadError(name, e);
        }
    }

    /**
     * A model ONNX Runtime refused: NOT_ONNX for bytes that do not parse, UNSUPPORTED_OP for an
     * operator it has no kernel for, INVALID_MODEL otherwise.
     */
    public static LayerProbeException loadError(String name, OrtException e) {
        Code code = switch (e.getCode()) {
            case ORT_INVALID_PROTOBUF -> Code.NOT_ONNX;
            case ORT_NOT_IMPLEMENTED -> Code.UNSUPPORTED_OP;
            // ONNX Runtime reports an operator it has no kernel for as a generic failure; its message is the only sign.
            default ->
                UNKNOWN_OP_MESSAGES.stream().anyMatch(String.valueOf(e.getMessage())::contains)
                        ? Code.UNSUPPORTED_OP
                        : Code.INVALID_MODEL;
        };
        return new LayerProbeException(code, "ONNX Runtime cannot load " + name + ": " + message(e), e);
    }

    /** A run ONNX Runtime failed: BAD_INPUT for inputs it refused, RUNTIME otherwise. */
    public static LayerProbeException runError(OrtException e) {
        Code code = e.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT ? Code.BAD_INPUT : Code.RUNTIME;
        return new LayerProbeException(code, "ONNX Runtime failed: " + message(e), e);
    }

    /** The first line of ONNX Runtime's message, without its "Error code - X - message:" prefix. */
    public static String message(OrtException e) {
        String line = OneLine.of(e.getMessage());
        if (line.isEmpty()) {
            return "unknown error";
        }
        int m = line.startsWith("Error code - ") ? line.indexOf(" - message: ") : -1;
        return m < 0 ? line : line.substring(m + " - message: ".length()).strip();
    }

    /** This machine as ONNX Runtime's natives are named, e.g. {@code linux-amd64}. */
    public static String platform() {
        return System.getProperty("os.name", "?").toLowerCase(Locale.ROOT) + "-" + System.getProperty("os.arch", "?");
    }

    /** The messages along a cause chain, e.g. the loader's wrapper and the linker's reason, as one line. */
    private static String messages(Throwable t) {
        List<String> parts = new ArrayList<>();
        for (Throwable c = t; c != null && parts.size() < 4; c = c.getCause()) {
            String m = c.getMessage();
            if (m != null && !m.isBlank() && parts.stream().noneMatch(m::contains)) {
                parts.add(OneLine.of(m));
            }
        }
        return parts.isEmpty() ? t.getClass().getSimpleName() : String.join(": ", parts);
    }
}
