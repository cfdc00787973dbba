package dev.layerprobe.agent.access;

/**
 * A call did not carry the agent's bearer token, or carried another. The service's status mapper
 * turns it into UNAUTHENTICATED; the message says which of the two, never what the token is.
 */
public final class AuthenticationException extends Exception {
    public AuthenticationException(String message) {
        super(message, null, false, false);
    }
}
