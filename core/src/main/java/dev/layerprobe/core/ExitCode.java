package dev.layerprobe.core;

import java.nio.file.NoSuchFileException;

/**
 * The exit codes of every LayerProbe program ({@code layerprobe} and its subcommands, and the
 * standalone agent), the one table of them. An analysis that finds faults still exits
 * {@link #OK}: the code says whether the program could do its job, not what it found.
 */
public enum ExitCode {
    /** The command ran. */
    OK(0),
    /** An internal error; rerun with {@code --verbose} for the stack trace. */
    INTERNAL(1),
    /** A bad command line (unknown option, missing or malformed argument). */
    USAGE(2),
    /**
     * Bad input: a missing or malformed file, a wrong shape, a bad profile or configuration, an
     * unusable token or TLS file, an agent setup it refuses (an exposed address without a token).
     */
    BAD_INPUT(3),
    /** The model uses an operator or a quantization that is not supported. */
    UNSUPPORTED(4),
    /** The device could not be reached or failed, or a device runtime could not be loaded. */
    DEVICE(5),
    /** The reference run (ONNX Runtime on the float model) failed. */
    REFERENCE(6);

    private final int value;

    ExitCode(int value) {
        this.value = value;
    }

    /** The number the process exits with. */
    public int value() {
        return value;
    }

    /** The exit code for an engine error, by its code. */
    public static ExitCode of(LayerProbeException.Code code) {
        return switch (code) {
            case UNSUPPORTED_OP, UNSUPPORTED_QUANTIZATION -> UNSUPPORTED;
            case IO, NOT_ONNX, INVALID_MODEL, BAD_INPUT, BAD_PROFILE -> BAD_INPUT;
            // Raised by device backends, e.g. when `layerprobe agent --backend ort` cannot load ONNX Runtime.
            case RUNTIME -> DEVICE;
        };
    }

    /**
     * The exit code for a failure of a kind every program meets: an engine error by its code, a
     * missing file as bad input, anything else as internal. Each program maps its own exception
     * types first and falls back to this; {@link OneLine#forUser(Throwable)} is the line it prints.
     */
    public static ExitCode of(Throwable t) {
        if (t instanceof LayerProbeException e) {
            return of(e.code());
        }
        return t instanceof NoSuchFileException ? BAD_INPUT : INTERNAL;
    }
}
