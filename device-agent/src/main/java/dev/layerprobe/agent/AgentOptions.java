package dev.layerprobe.agent;

import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The agent's command-line options, defined once for both commands that start an agent:
 * {@code layerprobe agent} and the standalone {@code layerprobe-agent} ({@link AgentMain}) mix it
 * in. The defaults are {@link AgentConfig}'s constants, in the flags' units (MiB, seconds, hours),
 * and the help shows them; the values are checked where the config is made ({@link #config()}),
 * so a bad one fails the same way from either command.
 *
 * <p>Filled by picocli once per parse; not thread-safe.
 */
public final class AgentOptions {
    private static final int MIB_SHIFT = 20;

    @Option(names = "--port", paramLabel = "N", description = "TCP port (${DEFAULT-VALUE}; 0 picks a free one)")
    int port = AgentConfig.DEFAULT_PORT;

    @Option(
            names = "--bulk-port",
            paramLabel = "N",
            description = "TCP port for bulk pulls of stored runs (default: --port + 1; 0 picks a free one;"
                    + " 'off' pulls over gRPC only); forward it with --port to pull at full speed",
            converter = BulkPortConverter.class)
    Integer bulkPort;

    @Option(
            names = "--bind",
            paramLabel = "ADDR",
            description =
                    "address to listen on (${DEFAULT-VALUE}); a non-loopback address needs --token-file or --insecure")
    String bind = AgentConfig.DEFAULT_BIND_HOST;

    @Option(
            names = "--profile",
            paramLabel = "P.yaml",
            description = "device profile: name, numerics, faults (default: the built-in emulated NPU)")
    Path profile;

    @Option(
            names = "--backend",
            paramLabel = "NAME",
            description = "what runs the models (${DEFAULT-VALUE}): sim, the emulated NPU; ort, ONNX Runtime on this"
                    + " CPU (cannot run single layers or apply faults); exec, a vendor runtime (see --backend-config)")
    String backend = AgentConfig.DEFAULT_BACKEND;

    @Option(
            names = "--backend-config",
            paramLabel = "AGENT.yaml",
            description = "the agent's config file; the exec backend's vendor runtime command, dump folder and layout")
    Path backendConfig;

    @Option(
            names = "--ep",
            paramLabel = "NAME",
            split = ",",
            description = "with --backend ort: ONNX Runtime execution providers to use, in order of preference"
                    + " (e.g. xnnpack); ONNX Runtime's CPU provider runs what they do not take")
    List<String> executionProviders = new ArrayList<>();

    @Option(
            names = "--token-file",
            paramLabel = "FILE",
            description = "every call but health checks must carry this bearer token (one line, file mode 600)")
    Path tokenFile;

    @Option(
            names = "--tls-cert",
            paramLabel = "CERT.pem",
            description = "serve TLS with this PEM certificate chain (with --tls-key)")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "KEY.pem", description = "the certificate's unencrypted PKCS#8 PEM key")
    Path tlsKey;

    @Option(names = "--insecure", description = "allow a non-loopback --bind without a token")
    boolean insecure;

    @Option(names = "--model-dir", paramLabel = "DIR", description = "keep uploaded models in DIR across restarts")
    Path modelDir;

    @Option(names = "--max-model-mb", paramLabel = "N", description = "largest model accepted, MiB (${DEFAULT-VALUE})")
    int maxModelMb = (int) (AgentConfig.DEFAULT_MAX_MODEL_BYTES >> MIB_SHIFT);

    @Option(
            names = "--max-message-mb",
            paramLabel = "N",
            description = "largest message accepted, MiB (${DEFAULT-VALUE})")
    int maxMessageMb = (int) (AgentConfig.DEFAULT_MAX_INBOUND_MESSAGE_BYTES >> MIB_SHIFT);

    @Option(names = "--max-runs", paramLabel = "N", description = "runs at once; more are refused (${DEFAULT-VALUE})")
    int maxRuns = AgentConfig.DEFAULT_MAX_CONCURRENT_RUNS;

    @Option(names = "--max-inputs", paramLabel = "N", description = "input tensors per run request (${DEFAULT-VALUE})")
    int maxInputs = AgentConfig.DEFAULT_MAX_INPUT_TENSORS;

    @Option(
            names = "--default-deadline-s",
            paramLabel = "N",
            description = "deadline of calls whose client set none, seconds (${DEFAULT-VALUE})")
    int defaultDeadlineSeconds = (int) AgentConfig.DEFAULT_DEADLINE.toSeconds();

    @Option(names = "--data-dir", paramLabel = "DIR", description = "runs are stored in DIR/runs (${DEFAULT-VALUE})")
    Path dataDir = AgentConfig.DEFAULT_DATA_DIR;

    @Option(
            names = "--keep-runs-mb",
            paramLabel = "N",
            description = "stored runs beyond N MiB in total evict the oldest (${DEFAULT-VALUE})")
    int keepRunsMb = (int) (RunStore.Retention.DEFAULT_MAX_BYTES >> MIB_SHIFT);

    @Option(
            names = "--keep-runs-hours",
            paramLabel = "N",
            description = "stored runs older than N hours are deleted (${DEFAULT-VALUE})")
    int keepRunsHours = (int) RunStore.Retention.DEFAULT_MAX_AGE.toHours();

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    /**
     * The config these options describe, with the profile loaded.
     *
     * @throws LayerProbeException   when the profile cannot be read or is not valid
     * @throws AgentSetupException   when a value is out of its range, naming the flag
     */
    public AgentConfig config() throws LayerProbeException, AgentSetupException {
        DeviceProfile p = profile == null ? DeviceProfile.DEFAULT : DeviceProfile.load(profile);
        try {
            return AgentConfig.builder()
                    .profile(p)
                    .backend(backend)
                    .backendConfig(backendConfig)
                    .executionProviders(executionProviders)
                    .bindHost(bind)
                    .port(port)
                    .bulkPort(bulkPort != null ? bulkPort : port == 0 || port == 65535 ? 0 : port + 1)
                    .insecure(insecure)
                    .tokenFile(tokenFile)
                    .tls(tlsCert, tlsKey)
                    .modelDir(modelDir)
                    .maxModelBytes((long) maxModelMb << MIB_SHIFT)
                    .maxInboundMessageBytes((long) maxMessageMb << MIB_SHIFT)
                    .maxConcurrentRuns(maxRuns)
                    .maxInputTensors(maxInputs)
                    .defaultDeadline(Duration.ofSeconds(defaultDeadlineSeconds))
                    .runDir(dataDir.resolve("runs"))
                    .runRetention(
                            new RunStore.Retention((long) keepRunsMb << MIB_SHIFT, Duration.ofHours(keepRunsHours)))
                    .build();
        } catch (IllegalArgumentException e) {
            throw new AgentSetupException(e.getMessage(), e);
        }
    }

    /** {@code --bulk-port}: a port number, or {@code off}. */
    static final class BulkPortConverter implements CommandLine.ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            if (value.equalsIgnoreCase("off")) {
                return AgentConfig.BULK_OFF;
            }
            try {
                return Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("expected a port number or 'off', got '" + value + "'");
            }
        }
    }
}
