package dev.layerprobe.simulator;

import dev.layerprobe.core.LayerProbeException;

/**
 * A {@link LayerProbeException} raised by the simulator: compiling or running a model, reading a
 * profile, quantizing. Its {@link #code()} is one of {@link LayerProbeException.Code}, which
 * callers also reach as {@code SimulatorException.Code}.
 */
public final class SimulatorException extends LayerProbeException {
    private static final long serialVersionUID = 1L;

    public SimulatorException(Code code, String message) {
        super(code, message);
    }

    public SimulatorException(Code code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
