package dev.layerprobe.host.cli;

import dev.layerprobe.host.client.AgentEndpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * Which device a command talks to, shared by every command that talks to one: a running agent
 * (with its token and TLS CA), or an emulated one started in this process; {@code analyze} takes
 * several ({@link #endpoints}), the others one ({@link #endpoint}).
 */
final class DeviceOptions {
    @Option(
            names = "--device",
            paramLabel = "HOST:PORT",
            description = "a running agent (default: an emulated device started in this process); analyze"
                    + " takes it more than once, or a name that resolves to several agents"
                    + " (dns:///agents:50051), and spreads its inputs over them")
    List<String> devices;

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
        List<AgentEndpoint> all = endpoints();
        if (all.size() > 1) {
            throw new UsageException("this command talks to one device, --device was given " + all.size() + " times");
        }
        return all.isEmpty() ? null : all.get(0);
    }

    /**
     * Every agent given, each with the same token and CA; empty for the emulated device in this process.
     *
     * @throws UsageException when a token or CA is given without {@code --device}
     */
    List<AgentEndpoint> endpoints() throws UsageException {
        if (devices == null || devices.isEmpty()) {
            if (tokenFile != null || tlsCa != null) {
                throw new UsageException("--token-file and --tls-ca are for a running agent: add --device HOST:PORT");
            }
            return List.of();
        }
        List<AgentEndpoint> out = new ArrayList<>();
        for (String d : devices) {
            out.add(new AgentEndpoint(d, tokenFile, tlsCa));
        }
        return out;
    }
}
