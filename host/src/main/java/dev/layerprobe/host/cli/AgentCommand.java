package dev.layerprobe.host.cli;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.agent.backend.BackendProvider;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.Fault;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code layerprobe agent}: serve a backend over gRPC: the emulated device (the simulator, the
 * default) or ONNX Runtime on this machine's CPU ({@code --backend ort}).
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = "Run the device agent: a gRPC server that executes quantized models and streams every"
                + " layer. With --backend sim (the default) it emulates an NPU with the simulator and the profile's"
                + " numerics and faults; with --backend ort it runs models in ONNX Runtime on this machine's CPU.")
final class AgentCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--port", defaultValue = "50051", description = "TCP port (${DEFAULT-VALUE}; 0 picks a free one)")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "address to listen on (${DEFAULT-VALUE})")
    String bind;

    @Option(names = "--profile", paramLabel = "P.yaml", description = "device profile: name, numerics, faults")
    Path profile;

    @Option(names = "--backend", defaultValue = "sim", paramLabel = "NAME",
            description = "sim (the emulated NPU, ${DEFAULT-VALUE}) or ort (ONNX Runtime on this CPU; cannot run"
                    + " single layers or apply faults)")
    String backend;

    @Option(names = "--insecure", description = "allow a non-loopback --bind without authentication")
    boolean insecure;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        List<String> backends = BackendProvider.available().stream().map(BackendProvider::name).toList();
        if (!backends.contains(backend)) {
            throw new UsageException("unknown backend '" + backend + "', expected one of " + backends);
        }
        DeviceProfile p = profile == null ? DeviceProfile.DEFAULT : DeviceProfile.load(profile);
        AgentConfig config = AgentConfig.defaults().withProfile(p).withBackend(backend).withBind(bind, port)
                .withInsecure(insecure);
        try (AgentServer server = AgentServer.netty(config)) {
            server.start();
            String faults = p.faults().isEmpty() ? "none"
                    : p.faults().stream().map(f -> f.kind().yamlName() + " on " + f.target()).collect(Collectors.joining(", "));
            String device = server.backend().profile().isPresent() ? "profile " + p.name() + ", faults: " + faults
                    : server.backend().device();
            spec.commandLine().getOut().println("LayerProbe agent listening on " + bind + ":" + server.port()
                    + " (backend " + backend + ", " + device + ")");
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
