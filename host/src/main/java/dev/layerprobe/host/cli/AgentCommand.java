package dev.layerprobe.host.cli;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.Fault;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code layerprobe agent}: serve the emulated device (the simulator backend) or a vendor runtime over gRPC. */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = "Run the device agent: a gRPC server that executes quantized models and streams every"
                + " layer. On x86 it emulates an NPU with the simulator and the profile's numerics and faults.")
final class AgentCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--port", defaultValue = "50051", description = "TCP port (${DEFAULT-VALUE}; 0 picks a free one)")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "address to listen on (${DEFAULT-VALUE})")
    String bind;

    @Option(names = "--profile", paramLabel = "P.yaml", description = "device profile: name, numerics, faults")
    Path profile;

    @Option(names = "--backend", defaultValue = "sim",
            description = "what runs the models: sim (the emulated NPU, default) or exec (a vendor runtime)")
    String backend;

    @Option(names = "--backend-config", paramLabel = "AGENT.yaml",
            description = "the agent's config file; the exec backend's vendor runtime command, dump folder and layout")
    Path backendConfig;

    @Option(names = "--insecure", description = "allow a non-loopback --bind without authentication")
    boolean insecure;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        DeviceProfile p = profile == null ? DeviceProfile.DEFAULT : DeviceProfile.load(profile);
        AgentConfig config = AgentConfig.defaults().withProfile(p).withBind(bind, port).withInsecure(insecure)
                .withBackend(backend).withBackendConfig(backendConfig);
        AgentServer created;
        try {
            created = AgentServer.netty(config);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        try (AgentServer server = created) {
            server.start();
            String faults = p.faults().isEmpty() ? "none"
                    : p.faults().stream().map(f -> f.kind().yamlName() + " on " + f.target()).collect(Collectors.joining(", "));
            spec.commandLine().getOut().println("LayerProbe agent listening on " + bind + ":" + server.port()
                    + " (backend " + server.backend().name() + ", device " + server.backend().device() + ", profile "
                    + p.name() + ", faults: " + faults + ")");
            spec.commandLine().getOut().flush();
            Runtime.getRuntime().addShutdownHook(new Thread(server::close, "agent-shutdown"));
            server.awaitTermination();
        }
        return 0;
    }

    static String describe(Fault f) {
        return f.kind().yamlName() + " on " + f.target();
    }
}
