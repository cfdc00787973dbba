package dev.layerprobe.host.cli;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.Fault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code layerprobe agent}: serve the emulated device (the simulator backend) over gRPC. */
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

    @Option(names = "--insecure", description = "allow a non-loopback --bind without authentication")
    boolean insecure;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "keep stored runs in DIR/runs (default ~/.layerprobe/agent)")
    Path dataDir = AgentConfig.DEFAULT_DATA_DIR;

    @Option(names = "--keep-runs-mb", paramLabel = "N", defaultValue = "4096",
            description = "stored runs beyond N MiB in total evict the oldest (${DEFAULT-VALUE})")
    long keepRunsMb;

    @Option(names = "--keep-runs-hours", paramLabel = "N", defaultValue = "24",
            description = "stored runs older than N hours are deleted (${DEFAULT-VALUE})")
    long keepRunsHours;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        DeviceProfile p = profile == null ? DeviceProfile.DEFAULT : DeviceProfile.load(profile);
        if (keepRunsMb <= 0 || keepRunsMb > (Long.MAX_VALUE >> 20) || keepRunsHours <= 0) {
            throw new UsageException("--keep-runs-mb and --keep-runs-hours must be positive, got " + keepRunsMb
                    + " and " + keepRunsHours);
        }
        AgentConfig config = AgentConfig.defaults().withProfile(p).withBind(bind, port).withInsecure(insecure)
                .withRunDir(dataDir.resolve("runs"))
                .withRunRetention(new RunStore.Retention(keepRunsMb << 20, Duration.ofHours(keepRunsHours)));
        try (AgentServer server = AgentServer.netty(config)) {
            server.start();
            String faults = p.faults().isEmpty() ? "none"
                    : p.faults().stream().map(f -> f.kind().yamlName() + " on " + f.target()).collect(Collectors.joining(", "));
            spec.commandLine().getOut().println("LayerProbe agent listening on " + bind + ":" + server.port()
                    + " (profile " + p.name() + ", faults: " + faults + "; runs stored in " + server.runs().dir() + ")");
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
