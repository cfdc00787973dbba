package dev.layerprobe.host.golden;

/**
 * The golden reference could not be computed: the model does not load in ONNX Runtime, the feeds
 * do not match its inputs, or a run fails. The message is one line and names the bad value.
 */
public final class GoldenException extends Exception {
    public GoldenException(String message) {
        super(message);
    }

    public GoldenException(String message, Throwable cause) {
        super(message, cause);
    }
}
