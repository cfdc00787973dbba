package dev.layerprobe.agent;

/**
 * The agent refuses to start with this configuration: a value out of its range, an unknown
 * backend, an exposed address without authentication, an unusable token file, TLS files that
 * cannot be read. The message is one line that says why and what to change; both commands that
 * start an agent print it and exit with {@code ExitCode.BAD_INPUT}.
 */
public final class AgentSetupException extends Exception {
    public AgentSetupException(String message) {
        super(message);
    }

    public AgentSetupException(String message, Throwable cause) {
        super(message, cause);
    }
}
