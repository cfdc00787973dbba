package dev.layerprobe.agent;

import dev.layerprobe.agent.backend.SimBackend;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How an agent is set up. Immutable; made with {@link #builder()}, whose defaults are the
 * {@code DEFAULT_*} constants below (also the defaults of the command line, {@link AgentOptions}).
 * Secrets are held as file paths, never as values, so that printing a config never prints a token.
 *
 * <p>The constructor is the one place that checks the values: required settings, the limits
 * (the {@code *_LIMIT} constants) and that TLS has both its files. A bad value is an
 * {@link IllegalArgumentException} naming the flag that sets it, in the flag's unit (MiB,
 * seconds), since that is how users set them; a value set from code that is no whole number of
 * that unit is shown in bytes or as a duration. What needs the file system or the network (the
 * token file, the TLS files, whether the address is exposed) is checked by {@link AgentServer}
 * before it loads a backend.
 *
 * @param profile            the emulated device (numerics and faults) for emulating backends
 * @param backend            the backend's name, see {@link dev.layerprobe.agent.backend.BackendProvider}
 * @param bindHost           the address to listen on; non-loopback addresses need a token file or {@code insecure}
 * @param port               the TCP port, 0 for any free port
 * @param maxModelBytes      the largest model {@code UploadModel} accepts, in bytes
 * @param maxConcurrentRuns  runs executing at once; further {@code Run} calls get RESOURCE_EXHAUSTED
 * @param maxInboundMessageBytes the largest message the server accepts (upload chunks, run inputs), in bytes
 * @param insecure           whether to listen on a non-loopback address without authentication
 * @param modelDir           where uploaded models persist across restarts, or null for memory only
 * @param tokenFile          a file holding the bearer token every call must carry, or null for none
 * @param tlsCert            PEM certificate chain for TLS, or null for plaintext; set with {@code tlsKey}
 * @param tlsKey             PEM private key (PKCS#8) of {@code tlsCert}, or null
 * @param defaultDeadline    the deadline of calls whose client set none
 * @param maxInputTensors    the most input tensors one {@code Run} or {@code RunLayer} request may carry
 * @param backendConfig      the agent's config file for backends that need one (the exec backend's
 *                           vendor runtime command), or null
 * @param runDir             where runs are stored for {@code ListRuns}/{@code PullDump}, kept across
 *                           restarts; null for a temporary directory deleted when the agent closes
 * @param runRetention       how much of the stored runs is kept (size and age)
 * @param executionProviders ONNX Runtime execution providers for the {@code ort} backend, in order
 *                           of preference, as given on the command line (empty: ONNX Runtime's CPU)
 * @param bulkPort           the TCP port for bulk pulls ({@code OpenBulkPull}, on {@code bindHost}), 0
 *                           for any free one, {@link #BULK_OFF} for none; the builder's default is
 *                           {@code port + 1} (any free port when {@code port} is 0)
 */
public record AgentConfig(
        DeviceProfile profile,
        String backend,
        String bindHost,
        int port,
        long maxModelBytes,
        int maxConcurrentRuns,
        long maxInboundMessageBytes,
        boolean insecure,
        Path modelDir,
        Path tokenFile,
        Path tlsCert,
        Path tlsKey,
        Duration defaultDeadline,
        int maxInputTensors,
        Path backendConfig,
        Path runDir,
        RunStore.Retention runRetention,
        List<String> executionProviders,
        int bulkPort) {

    /** Where an agent started from the command line keeps its data (runs under {@code runs/}) unless told otherwise. */
    public static final Path DEFAULT_DATA_DIR = Path.of(System.getProperty("user.home"), ".layerprobe", "agent");

    public static final String DEFAULT_BACKEND = SimBackend.NAME;
    public static final String DEFAULT_BIND_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 50051;
    public static final long DEFAULT_MAX_MODEL_BYTES = 512L << 20;
    /** Models are held in one byte array, which caps them just below 2 GiB. */
    public static final long MAX_MODEL_BYTES_LIMIT = Integer.MAX_VALUE - 8;

    public static final int DEFAULT_MAX_CONCURRENT_RUNS = 2;
    /** Each run holds a thread and a model's activations; more than this at once is a typo, not a board. */
    public static final int MAX_CONCURRENT_RUNS_LIMIT = 1024;
    /** Room for a 4 MiB dump chunk or upload chunk plus framing. */
    public static final long DEFAULT_MAX_INBOUND_MESSAGE_BYTES = 8L << 20;
    /** gRPC sizes messages with an int; 1 GiB, what an agent serving only its own process allows, is far below. */
    public static final long MAX_INBOUND_MESSAGE_BYTES_LIMIT = 1L << 30;
    /** As long as the host's own run deadline: a large model on a slow board takes minutes. */
    public static final Duration DEFAULT_DEADLINE = Duration.ofMinutes(30);

    public static final Duration DEFAULT_DEADLINE_LIMIT = Duration.ofDays(7);
    /** Networks with more inputs than this are rare; the cap bounds the work of decoding one request. */
    public static final int DEFAULT_MAX_INPUT_TENSORS = 64;

    public static final int MAX_INPUT_TENSORS_LIMIT = 100_000;

    /** {@link #bulkPort} for an agent that serves pulls over gRPC only. */
    public static final int BULK_OFF = -1;

    private static final long MIB = 1L << 20;

    public AgentConfig {
        Objects.requireNonNull(profile, "profile");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(defaultDeadline, "defaultDeadline");
        Objects.requireNonNull(runRetention, "runRetention");
        executionProviders = List.copyOf(executionProviders);
        if (port < 0 || port > 65535) {
            throw outOfRange("--port", 0, 65535, Integer.toString(port));
        }
        if (maxModelBytes < 1 || maxModelBytes > MAX_MODEL_BYTES_LIMIT) {
            throw outOfRange("--max-model-mb", 1, MAX_MODEL_BYTES_LIMIT / MIB, mib(maxModelBytes));
        }
        if (maxConcurrentRuns < 1 || maxConcurrentRuns > MAX_CONCURRENT_RUNS_LIMIT) {
            throw outOfRange("--max-runs", 1, MAX_CONCURRENT_RUNS_LIMIT, Integer.toString(maxConcurrentRuns));
        }
        if (maxInboundMessageBytes < 1 || maxInboundMessageBytes > MAX_INBOUND_MESSAGE_BYTES_LIMIT) {
            throw outOfRange("--max-message-mb", 1, MAX_INBOUND_MESSAGE_BYTES_LIMIT / MIB, mib(maxInboundMessageBytes));
        }
        if (defaultDeadline.compareTo(Duration.ZERO) <= 0 || defaultDeadline.compareTo(DEFAULT_DEADLINE_LIMIT) > 0) {
            throw outOfRange("--default-deadline-s", 1, DEFAULT_DEADLINE_LIMIT.toSeconds(), seconds(defaultDeadline));
        }
        if (maxInputTensors < 1 || maxInputTensors > MAX_INPUT_TENSORS_LIMIT) {
            throw outOfRange("--max-inputs", 1, MAX_INPUT_TENSORS_LIMIT, Integer.toString(maxInputTensors));
        }
        if (bulkPort != BULK_OFF && (bulkPort < 0 || bulkPort > 65535)) {
            throw outOfRange("--bulk-port", 0, 65535, Integer.toString(bulkPort));
        }
        if (bulkPort != BULK_OFF && bulkPort != 0 && bulkPort == port) {
            throw new IllegalArgumentException("--bulk-port must differ from --port, both are " + port);
        }
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new IllegalArgumentException("TLS needs both --tls-cert and --tls-key");
        }
    }

    private static IllegalArgumentException outOfRange(String flag, long min, long max, String got) {
        return new IllegalArgumentException(flag + " must be in [" + min + ", " + max + "], got " + got);
    }

    private static String mib(long bytes) {
        return bytes % MIB == 0 ? Long.toString(bytes / MIB) : bytes + " bytes";
    }

    private static String seconds(Duration d) {
        return d.getNano() == 0 ? Long.toString(d.getSeconds()) : d.toString();
    }

    /**
     * A builder holding the defaults: the simulator emulating the default NPU on
     * 127.0.0.1:{@value #DEFAULT_PORT}, plaintext, no token, runs in a temporary directory.
     */
    public static Builder builder() {
        return new Builder();
    }

    /** The config with every default; see {@link #builder()}. */
    public static AgentConfig defaults() {
        return builder().build();
    }

    /** Whether calls must carry a bearer token. */
    public boolean authenticated() {
        return tokenFile != null;
    }

    /** Whether the server speaks TLS. */
    public boolean tls() {
        return tlsCert != null;
    }

    /**
     * Collects the settings of an {@link AgentConfig}; starts from the defaults, and {@link #build()}
     * checks them. Each setter names the record component it sets. Not thread-safe.
     */
    public static final class Builder {
        private DeviceProfile profile = DeviceProfile.DEFAULT;
        private String backend = DEFAULT_BACKEND;
        private String bindHost = DEFAULT_BIND_HOST;
        private int port = DEFAULT_PORT;
        private long maxModelBytes = DEFAULT_MAX_MODEL_BYTES;
        private int maxConcurrentRuns = DEFAULT_MAX_CONCURRENT_RUNS;
        private long maxInboundMessageBytes = DEFAULT_MAX_INBOUND_MESSAGE_BYTES;
        private boolean insecure;
        private Path modelDir;
        private Path tokenFile;
        private Path tlsCert;
        private Path tlsKey;
        private Duration defaultDeadline = DEFAULT_DEADLINE;
        private int maxInputTensors = DEFAULT_MAX_INPUT_TENSORS;
        private Path backendConfig;
        private Path runDir;
        private RunStore.Retention runRetention = RunStore.Retention.DEFAULT;
        private List<String> executionProviders = List.of();
        private Integer bulkPort;

        private Builder() {}

        public Builder profile(DeviceProfile p) {
            this.profile = p;
            return this;
        }

        public Builder backend(String name) {
            this.backend = name;
            return this;
        }

        public Builder bindHost(String host) {
            this.bindHost = host;
            return this;
        }

        /** The TCP port, 0 for any free one. */
        public Builder port(int p) {
            this.port = p;
            return this;
        }

        public Builder maxModelBytes(long n) {
            this.maxModelBytes = n;
            return this;
        }

        public Builder maxConcurrentRuns(int n) {
            this.maxConcurrentRuns = n;
            return this;
        }

        public Builder maxInboundMessageBytes(long n) {
            this.maxInboundMessageBytes = n;
            return this;
        }

        public Builder insecure(boolean b) {
            this.insecure = b;
            return this;
        }

        /** Uploaded models kept in {@code dir} across restarts (null: in memory only). */
        public Builder modelDir(Path dir) {
            this.modelDir = dir;
            return this;
        }

        /** Calls must carry the token held in {@code file} (null: no token). */
        public Builder tokenFile(Path file) {
            this.tokenFile = file;
            return this;
        }

        /** TLS from a PEM certificate chain and its PKCS#8 PEM key (both null: plaintext). */
        public Builder tls(Path cert, Path key) {
            this.tlsCert = cert;
            this.tlsKey = key;
            return this;
        }

        public Builder defaultDeadline(Duration d) {
            this.defaultDeadline = d;
            return this;
        }

        public Builder maxInputTensors(int n) {
            this.maxInputTensors = n;
            return this;
        }

        /** The agent's config file for backends that need one (null: none). */
        public Builder backendConfig(Path file) {
            this.backendConfig = file;
            return this;
        }

        /** Runs stored in {@code dir} across restarts (null: a temporary directory deleted on close). */
        public Builder runDir(Path dir) {
            this.runDir = dir;
            return this;
        }

        public Builder runRetention(RunStore.Retention r) {
            this.runRetention = r;
            return this;
        }

        /** ONNX Runtime execution providers for the {@code ort} backend, in order of preference. */
        public Builder executionProviders(List<String> names) {
            this.executionProviders = names;
            return this;
        }

        /**
         * The TCP port for bulk pulls, 0 for any free one, {@link #BULK_OFF} for none; unset, the
         * gRPC port + 1 (any free port when that is 0 or 65535).
         */
        public Builder bulkPort(int p) {
            this.bulkPort = p;
            return this;
        }

        /**
         * Checks every value against its range and builds the configuration.
         *
         * @throws IllegalArgumentException naming the flag of a value out of its range, see {@link AgentConfig}
         */
        public AgentConfig build() {
            return new AgentConfig(
                    profile,
                    backend,
                    bindHost,
                    port,
                    maxModelBytes,
                    maxConcurrentRuns,
                    maxInboundMessageBytes,
                    insecure,
                    modelDir,
                    tokenFile,
                    tlsCert,
                    tlsKey,
                    defaultDeadline,
                    maxInputTensors,
                    backendConfig,
                    runDir,
                    runRetention,
                    executionProviders,
                    bulkPort != null ? bulkPort : port == 0 || port == 65535 ? 0 : port + 1);
        }
    }
}
