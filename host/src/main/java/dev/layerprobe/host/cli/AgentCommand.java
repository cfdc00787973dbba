package dev.layerprobe.host.cli;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.agent.backend.BackendProvider;
import dev.layerprobe.agent.backend.SimBackend;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code layerprobe agent}: serve a backend over gRPC: the emulated device (the simulator, the
 * default), ONNX Runtime on this machine's CPU ({@code --backend ort}) or a vendor runtime
 * ({@code --backend exec}). Refuses to start, with a
 * one-line reason and exit code 3, on a non-loopback address without {@code --token-file} or
 * {@code --insecure}, or with unusable token or TLS files.
 */
@Command(name = "agent", mixinStandardHelpOptions = true, sortOptions = false,
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

    @Option(names = "--backend", defaultValue = SimBackend.NAME, paramLabel = "NAME",
            description = "what runs the models: sim (the emulated NPU, ${DEFAULT-VALUE}), ort (ONNX Runtime on this CPU;"
                    + " cannot run single layers or apply faults) or exec (a vendor runtime, see --backend-config)")
    String backend;

    @Option(names = "--backend-config", paramLabel = "AGENT.yaml",
            description = "the agent's config file; the exec backend's vendor runtime command, dump folder and layout")
    Path backendConfig;
    @Option(names = "--token-file", paramLabel = "FILE",
            description = "every call but health checks must carry this bearer token (one line, file mode 600)")
    Path tokenFile;

    @Option(names = "--tls-cert", paramLabel = "CERT.pem", description = "serve TLS with this PEM certificate chain")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "KEY.pem", description = "the certificate's unencrypted PKCS#8 PEM key")
    Path tlsKey;

    @Option(names = "--insecure", description = "allow a non-loopback --bind without a token")
    boolean insecure;

    @Option(names = "--model-dir", paramLabel = "DIR", description = "keep uploaded models in DIR across restarts")
    Path modelDir;

    @Option(names = "--max-model-mb", defaultValue = "512", description = "largest model accepted, MiB (${DEFAULT-VALUE})")
    int maxModelMb;

    @Option(names = "--max-message-mb", defaultValue = "8",
            description = "largest message accepted, MiB (${DEFAULT-VALUE})")
    int maxMessageMb;

    @Option(names = "--max-runs", defaultValue = "2", description = "runs at once; more are refused (${DEFAULT-VALUE})")
    int maxRuns;

    @Option(names = "--max-inputs", defaultValue = "64", description = "input tensors per run request (${DEFAULT-VALUE})")
    int maxInputs;

    @Option(names = "--default-deadline-s", defaultValue = "1800",
            description = "deadline of calls whose client set none, seconds (${DEFAULT-VALUE})")
    int defaultDeadlineSeconds;

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
    public Integer call() throws UsageException, LayerProbeException, AgentSetupException, IOException,
            InterruptedException {
        List<String> backends = BackendProvider.available().stream().map(BackendProvider::name).toList();
        if (!backends.contains(backend)) {
            throw new UsageException("unknown backend '" + backend + "', expected one of " + backends);
        }
        DeviceProfile p = profile == null ? DeviceProfile.DEFAULT : DeviceProfile.load(profile);
        if (keepRunsMb <= 0 || keepRunsMb > (Long.MAX_VALUE >> 20) || keepRunsHours <= 0) {
            throw new UsageException("--keep-runs-mb and --keep-runs-hours must be positive, got " + keepRunsMb
                    + " and " + keepRunsHours);
        }
        AgentConfig config = config(p).withBackendConfig(backendConfig).withRunDir(dataDir.resolve("runs"))
                .withRunRetention(new RunStore.Retention(keepRunsMb << 20, Duration.ofHours(keepRunsHours)));
        AgentServer created;
        try {
            created = AgentServer.netty(config);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        try (AgentServer server = created) {
            server.start();
            spec.commandLine().getOut().println(server.banner() + "; runs stored in " + server.runs().dir());
            spec.commandLine().getOut().flush();
            Runtime.getRuntime().addShutdownHook(new Thread(server::close, "agent-shutdown"));
            server.awaitTermination();
        }
        return 0;
    }

    private AgentConfig config(DeviceProfile p) throws UsageException {
        positive("--max-model-mb", maxModelMb, (int) (AgentConfig.MAX_MODEL_BYTES_LIMIT >> 20));
        positive("--max-message-mb", maxMessageMb, 1024);
        positive("--max-runs", maxRuns, 1024);
        positive("--max-inputs", maxInputs, 100_000);
        positive("--default-deadline-s", defaultDeadlineSeconds, 7 * 24 * 3600);
        return AgentConfig.defaults().withProfile(p).withBackend(backend).withBind(bind, port).withInsecure(insecure)
                .withTokenFile(tokenFile).withTls(tlsCert, tlsKey).withModelDir(modelDir)
                .withMaxModelBytes((long) maxModelMb << 20).withMaxInboundMessageBytes(maxMessageMb << 20)
                .withMaxConcurrentRuns(maxRuns).withMaxInputTensors(maxInputs)
                .withDefaultDeadline(Duration.ofSeconds(defaultDeadlineSeconds));
    }

    private static void positive(String option, int value, int max) throws UsageException {
        if (value < 1 || value > max) {
            throw new UsageException(option + " must be in [1, " + max + "], got " + value);
        }
    }
}
