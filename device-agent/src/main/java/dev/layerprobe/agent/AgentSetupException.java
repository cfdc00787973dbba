package dev.layerprobe.agent;

/**
 * The agent refuses to start with this configuration: an exposed address without authentication,
 * an unusable token file, TLS files that cannot be read. The message is one line that says why and
 * what to change; callers print it and exit non-zero.
 */
public final class AgentSetupException extends Exception {
    public AgentSetupException(String message) {
        super(message);
    }

    public AgentSetupException(String message, Throwable cause) {
        super(message, cause);
    }
}
