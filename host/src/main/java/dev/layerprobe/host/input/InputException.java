package dev.layerprobe.host.input;

/**
 * An input file that cannot become a model input: missing, unreadable, of an unknown type, or of
 * the wrong shape. The message is one line and names the file and the bad value.
 */
public final class InputException extends Exception {
    public InputException(String message) {
        super(message);
    }

    public InputException(String message, Throwable cause) {
        super(message, cause);
    }
}
