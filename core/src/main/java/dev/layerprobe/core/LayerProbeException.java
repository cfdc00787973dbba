package dev.layerprobe.core;

/**
 * The checked exception of LayerProbe's engines: the simulator, the device backends (ONNX Runtime,
 * a vendor runtime run as a command) and the dump readers that need a code. {@link #code()} says
 * what kind of problem it is, so the one place that maps errors to gRPC status codes
 * ({@code StatusMapper}) and the one that maps them to exit codes ({@link ExitCode#of}) need not
 * know which engine raised it; the message names the bad value and, where there is a known set,
 * lists it.
 */
public class LayerProbeException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What went wrong, for callers that map errors to exit codes or gRPC status codes. */
    public enum Code {
        /** A file could not be read or written. */
        IO,
        /** The bytes are not an ONNX model. */
        NOT_ONNX,
        /** The model is ONNX but inconsistent (dangling inputs, bad attributes, shape mismatch). */
        INVALID_MODEL,
        /** The model uses operators the engine does not implement. */
        UNSUPPORTED_OP,
        /** The model's quantization uses types or layouts the engine does not implement. */
        UNSUPPORTED_QUANTIZATION,
        /** Inputs do not match the model (names, shapes, types). */
        BAD_INPUT,
        /** A device profile or backend configuration is malformed or names something that does not exist. */
        BAD_PROFILE,
        /**
         * The runtime behind a device backend (ONNX Runtime, a vendor library) could not be loaded,
         * or failed on a model and inputs it had accepted.
         */
        RUNTIME
    }

    private final Code code;

    public LayerProbeException(Code code, String message) {
        super(message);
        this.code = code;
    }

    public LayerProbeException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }
}
