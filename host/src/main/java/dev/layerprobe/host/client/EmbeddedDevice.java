package dev.layerprobe.host.client;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.io.IOException;

/**
 * The device a command talks to: a running agent, or the emulated device started in this process
 * on a loopback port, so that both go through the same gRPC path.
 *
 * <p>Owns its {@link AgentClient} and, for the emulated device, the {@link AgentServer}; {@link #close()}
 * closes both. Thread-safety is the client's: calls may run concurrently.
 */
public final class EmbeddedDevice implements AutoCloseable {
    /**
     * Largest message the emulated device accepts. Run sends the inputs in one message; this agent
     * serves only this process, so the network agent's cap on message size (a guard against
     * strangers) would only refuse large inputs here.
     */
    static final int EMBEDDED_MAX_MESSAGE_BYTES = 1 << 30;

    private final AgentServer server;
    private final AgentClient client;

    private EmbeddedDevice(AgentServer server, AgentClient client) {
        this.server = server;
        this.client = client;
    }

    /**
     * Connects to {@code target}, or starts the emulated device with {@code profile} when it is null.
     *
     * @throws AgentException when the target's address or credentials cannot be used
     * @throws LayerProbeException when the emulated device's backend cannot be set up
     * @throws AgentSetupException when the emulated device refuses its configuration
     * @throws IOException when the emulated device cannot listen on a loopback port
     */
    public static EmbeddedDevice connect(AgentEndpoint target, DeviceProfile profile)
            throws AgentException, LayerProbeException, AgentSetupException, IOException {
        if (target != null) {
            return new EmbeddedDevice(null, AgentClient.connect(target, AgentClient.Options.DEFAULT));
        }
        AgentServer server = AgentServer.netty(AgentConfig.builder()
                .profile(profile)
                .bindHost("127.0.0.1")
                .port(0)
                .maxInboundMessageBytes(EMBEDDED_MAX_MESSAGE_BYTES)
                // Its runs are streamed, never pulled: no bulk port, no thread for one.
                .bulkPort(AgentConfig.BULK_OFF)
                .build());
        server.start();
        try {
            return new EmbeddedDevice(server, new AgentClient("127.0.0.1", server.port()));
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    public AgentClient client() {
        return client;
    }

    @Override
    public void close() {
        client.close();
        if (server != null) {
            server.close();
        }
    }
}
