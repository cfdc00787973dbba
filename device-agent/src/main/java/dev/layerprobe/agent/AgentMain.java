package dev.layerprobe.agent;

import dev.layerprobe.agent.backend.SimBackend;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.Fault;
import java.io.IOException;
import java.util.stream.Collectors;

/**
 * The standalone agent for boards: {@code java -cp ... dev.layerprobe.agent.AgentMain --port N
 * --profile P.yaml --bind ADDR}. Serves until the process is stopped; SIGTERM shuts it down
 * gracefully. Exit codes: 0 after a clean shutdown, 2 for a bad command line, 1 when the agent
 * could not start; errors are one line on stderr.
 */
public final class AgentMain {
    private AgentMain() {
    }

    public static void main(String[] args) {
        AgentConfig config;
        try {
            config = AgentArgs.parse(args);
        } catch (AgentArgs.UsageException e) {
            System.err.println("layerprobe agent: " + e.getMessage());
            System.err.println(AgentArgs.USAGE);
            System.exit(2);
            return;
        } catch (SimulatorException e) {
            System.err.println("layerprobe agent: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (config == null) {
            System.out.println(AgentArgs.USAGE);
            return;
        }
        AgentServer server;
        try {
            server = AgentServer.netty(config).start();
        } catch (IOException | SimulatorException | IllegalArgumentException e) {
            System.err.println("layerprobe agent: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "layerprobe-agent-shutdown"));
        System.out.println(banner(config, server.port()));
        try {
            server.awaitTermination();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * {@code LayerProbe agent listening on HOST:PORT (profile NAME, faults: ...)} for the emulated
     * NPU, {@code (backend NAME)} for a backend that runs models as they are.
     */
    static String banner(AgentConfig config, int port) {
        if (!config.backend().equals(SimBackend.NAME)) {
            return "LayerProbe agent listening on " + config.bindHost() + ":" + port + " (backend " + config.backend()
                    + ")";
        }
        DeviceProfile p = config.profile();
        String faults = p.faults().isEmpty() ? "none" : p.faults().stream()
                .map(AgentMain::describe).collect(Collectors.joining(", "));
        return "LayerProbe agent listening on " + config.bindHost() + ":" + port + " (profile " + p.name()
                + ", faults: " + faults + ")";
    }

    private static String describe(Fault f) {
        return f.kind().yamlName() + " on " + f.target();
    }
}
