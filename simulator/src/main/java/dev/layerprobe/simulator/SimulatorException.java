package dev.layerprobe.simulator;

/**
 * The one checked exception of the simulator. {@link #code()} says what kind of problem it is; the
 * message names the bad value and, where there is a known set, lists it.
 */
public final class SimulatorException extends Exception {
    /** What went wrong, for callers that map errors to exit codes or gRPC status codes. */
    public enum Code {
        /** A file could not be read or written. */
        IO,
        /** The bytes are not an ONNX model. */
        NOT_ONNX,
        /** The model is ONNX but inconsistent (dangling inputs, bad attributes, shape mismatch). */
        INVALID_MODEL,
        /** The model uses operators the simulator does not implement. */
        UNSUPPORTED_OP,
        /** The model's quantization uses types or layouts the simulator does not implement. */
        UNSUPPORTED_QUANTIZATION,
        /** Inputs do not match the model (names, shapes, types). */
        BAD_INPUT,
        /** A device profile is malformed or names something that does not exist. */
        BAD_PROFILE,
        /**
         * The runtime behind a device backend (ONNX Runtime, a vendor library) could not be loaded,
         * or failed on a model and inputs it had accepted.
         */
        RUNTIME
    }

    private final Code code;

    public SimulatorException(Code code, String message) {
        super(message);
        this.code = code;
    }

    public SimulatorException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }
}
