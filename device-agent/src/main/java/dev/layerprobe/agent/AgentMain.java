package dev.layerprobe.agent;

import dev.layerprobe.core.LayerProbeException;
import java.io.IOException;

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
        NettyDefaults.apply();
        AgentConfig config;
        try {
            config = AgentArgs.parse(args);
        } catch (AgentArgs.UsageException e) {
            System.err.println("layerprobe agent: " + e.getMessage());
            System.err.println(AgentArgs.USAGE);
            System.exit(2);
            return;
        } catch (LayerProbeException e) {
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
        } catch (IOException | LayerProbeException | AgentSetupException | IllegalArgumentException e) {
            System.err.println("layerprobe agent: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "layerprobe-agent-shutdown"));
        System.out.println(server.banner());
        try {
            server.awaitTermination();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The line printed once the agent listens; see {@link AgentServer#banner()}. */
    static String banner(AgentConfig config, int port) {
        return AgentServer.banner(config, port);
    }
}
