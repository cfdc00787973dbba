package dev.layerprobe.agent.access;

/** A request message that does not parse; the service's status mapper makes it INVALID_ARGUMENT. */
public final class MalformedRequestException extends Exception {
    public MalformedRequestException(String message, Throwable cause) {
        super(message, cause);
    }
}
