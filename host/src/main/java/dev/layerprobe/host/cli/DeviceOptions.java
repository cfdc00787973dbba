package dev.layerprobe.host.cli;

import dev.layerprobe.host.client.AgentEndpoint;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Which device a command talks to, shared by every command that talks to one: a running agent
 * (with its token and TLS CA), or an emulated one started in this process.
 */
final class DeviceOptions {
    @Option(
            names = "--device",
            paramLabel = "HOST:PORT",
            description = "a running agent (default: an emulated device started in this process)")
    String device;

    @Option(
            names = "--token-file",
            paramLabel = "FILE",
            description = "bearer token for the agent (one line, file mode 600), as the agent's --token-file")
    Path tokenFile;

    @Option(
            names = "--tls-ca",
            paramLabel = "CA.pem",
            description = "connect with TLS, trusting this PEM certificate (the agent's, or its CA's)")
    Path tlsCa;

    @Option(
            names = "--profile",
            paramLabel = "P.yaml",
            description = "device profile for the emulated device: numerics and faults")
    Path profile;

    /**
     * The agent to connect to, or null for the emulated device in this process.
     *
     * @throws UsageException when a token or CA is given without {@code --device}
     */
    AgentEndpoint endpoint() throws UsageException {
        if (device == null) {
            if (tokenFile != null || tlsCa != null) {
                throw new UsageException("--token-file and --tls-ca are for a running agent: add --device HOST:PORT");
            }
            return null;
        }
        return new AgentEndpoint(device, tokenFile, tlsCa);
    }
}
