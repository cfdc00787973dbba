package dev.layerprobe.agent;

import dev.layerprobe.agent.backend.SimBackend;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How an agent is set up. Immutable; start from {@link #defaults()} and change fields with the
 * {@code with*} methods. Secrets are held as file paths, never as values, so that printing a
 * config never prints a token.
 *
 * @param profile            the emulated device (numerics and faults) for emulating backends
 * @param backend            the backend's name, see {@link dev.layerprobe.agent.backend.BackendProvider}
 * @param bindHost           the address to listen on; non-loopback addresses need a token file or {@code insecure}
 * @param port               the TCP port, 0 for any free port
 * @param maxModelBytes      the largest model {@code UploadModel} accepts, in bytes
 * @param maxConcurrentRuns  runs executing at once; further {@code Run} calls get RESOURCE_EXHAUSTED
 * @param maxInboundMessageBytes the largest message the server accepts (upload chunks, run inputs)
 * @param insecure           whether to listen on a non-loopback address without authentication
 * @param modelDir           where uploaded models persist across restarts, or null for memory only
 * @param tokenFile          a file holding the bearer token every call must carry, or null for none
 * @param tlsCert            PEM certificate chain for TLS, or null for plaintext; needs {@code tlsKey}
 * @param tlsKey             PEM private key (PKCS#8) of {@code tlsCert}, or null
 * @param defaultDeadline    the deadline of calls whose client set none
 * @param maxInputTensors    the most input tensors one {@code Run} or {@code RunLayer} request may carry
 * @param backendConfig      the agent's config file for backends that need one (the exec backend's
 *                           vendor runtime command), or null
 * @param runDir             where runs are stored for {@code ListRuns}/{@code PullDump}, kept across
 *                           restarts; null for a temporary directory deleted when the agent closes
 * @param runRetention       how much of the stored runs is kept (size and age)
 */
public record AgentConfig(DeviceProfile profile, String backend, String bindHost, int port, long maxModelBytes,
        int maxConcurrentRuns, int maxInboundMessageBytes, boolean insecure, Path modelDir, Path tokenFile,
        Path tlsCert, Path tlsKey, Duration defaultDeadline, int maxInputTensors, Path backendConfig,
        Path runDir, RunStore.Retention runRetention) {

    /** Where a standalone agent keeps its data (runs under {@code runs/}) unless told otherwise. */
    public static final Path DEFAULT_DATA_DIR = Path.of(System.getProperty("user.home"), ".layerprobe", "agent");
    public static final String DEFAULT_BIND_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 50051;
    public static final long DEFAULT_MAX_MODEL_BYTES = 512L << 20;
    /** Models are held in one byte array, which caps them just below 2 GiB. */
    public static final long MAX_MODEL_BYTES_LIMIT = Integer.MAX_VALUE - 8;
    public static final int DEFAULT_MAX_CONCURRENT_RUNS = 2;
    /** Room for a 4 MiB dump chunk or upload chunk plus framing. */
    public static final int DEFAULT_MAX_INBOUND_MESSAGE_BYTES = 8 << 20;
    /** As long as the host's own run deadline: a large model on a slow board takes minutes. */
    public static final Duration DEFAULT_DEADLINE = Duration.ofMinutes(30);
    /** Networks with more inputs than this are rare; the cap bounds the work of decoding one request. */
    public static final int DEFAULT_MAX_INPUT_TENSORS = 64;

    public AgentConfig {
        Objects.requireNonNull(profile, "profile");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(runRetention, "runRetention");
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(defaultDeadline, "defaultDeadline");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not in [0, 65535]");
        }
        if (maxModelBytes <= 0 || maxModelBytes > MAX_MODEL_BYTES_LIMIT) {
            throw new IllegalArgumentException("max model bytes must be in [1, " + MAX_MODEL_BYTES_LIMIT + "], got "
                    + maxModelBytes);
        }
        if (maxConcurrentRuns <= 0) {
            throw new IllegalArgumentException("max concurrent runs must be positive, got " + maxConcurrentRuns);
        }
        if (maxInboundMessageBytes <= 0) {
            throw new IllegalArgumentException("max inbound message size must be positive, got "
                    + maxInboundMessageBytes);
        }
        if (defaultDeadline.isNegative() || defaultDeadline.isZero()) {
            throw new IllegalArgumentException("the default deadline must be positive, got " + defaultDeadline);
        }
        if (maxInputTensors <= 0) {
            throw new IllegalArgumentException("max input tensors must be positive, got " + maxInputTensors);
        }
    }

    /** The default emulated NPU on 127.0.0.1:{@value #DEFAULT_PORT}, simulator backend, plaintext, no token. */
    public static AgentConfig defaults() {
        return new AgentConfig(DeviceProfile.DEFAULT, SimBackend.NAME, DEFAULT_BIND_HOST, DEFAULT_PORT,
                DEFAULT_MAX_MODEL_BYTES, DEFAULT_MAX_CONCURRENT_RUNS, DEFAULT_MAX_INBOUND_MESSAGE_BYTES, false, null,
                null, null, null, DEFAULT_DEADLINE, DEFAULT_MAX_INPUT_TENSORS, null, null,
                RunStore.Retention.DEFAULT);
    }

    /** Whether calls must carry a bearer token. */
    public boolean authenticated() {
        return tokenFile != null;
    }

    /** Whether the server speaks TLS. */
    public boolean tls() {
        return tlsCert != null || tlsKey != null;
    }

    public AgentConfig withProfile(DeviceProfile p) {
        return new AgentConfig(p, backend, bindHost, port, maxModelBytes, maxConcurrentRuns, maxInboundMessageBytes,
                insecure, modelDir, tokenFile, tlsCert, tlsKey, defaultDeadline, maxInputTensors,
                backendConfig, runDir, runRetention);
    }

    public AgentConfig withBackend(String b) {
        return new AgentConfig(profile, b, bindHost, port, maxModelBytes, maxConcurrentRuns, maxInboundMessageBytes,
                insecure, modelDir, tokenFile, tlsCert, tlsKey, defaultDeadline, maxInputTensors,
                backendConfig, runDir, runRetention);
    }

    public AgentConfig withBind(String host, int p) {
        return new AgentConfig(profile, backend, host, p, maxModelBytes, maxConcurrentRuns, maxInboundMessageBytes,
                insecure, modelDir, tokenFile, tlsCert, tlsKey, defaultDeadline, maxInputTensors,
                backendConfig, runDir, runRetention);
    }

    public AgentConfig withMaxModelBytes(long n) {
        return new AgentConfig(profile, backend, bindHost, port, n, maxConcurrentRuns, maxInboundMessageBytes,
                insecure, modelDir, tokenFile, tlsCert, tlsKey, defaultDeadline, maxInputTensors,
                backendConfig, runDir, runRetention);
    }

    public AgentConfig withMaxConcurrentRuns(int n) {
        return new AgentConfig(profile, backend, bindHost, port, maxModelBytes, n, maxInboundMessageBytes,
                insecure, modelDir, tokenFile, tlsCert, tlsKey, defaultDeadline, maxInputTensors,
                backendConfig, runDir, runRetention);
    }

    public AgentConfig withMaxInboundMessageBytes(int n) {
        return new AgentConfig(profile, backend, bindHost, port, maxModelBytes, maxConcurrentRuns, n,
                insecure, modelDir, tokenFile, tlsCert, tlsKey, defaultDeadline, maxInputTensors,
                backendConfig, runDir, runRetention);
    }

    public AgentConfig withInsecure(boolean b) {
        return new AgentConfig(profile, backend, bindHost, port, maxModelBytes, maxConcurrentRuns,
                maxInboundMessageBytes, b, modelDir, tokenFile, tlsCert, tlsKey, defaultDeadline, maxInputTensors,
                backendConfig, runDir, runRetention);
    }

    public AgentConfig withModelDir(Path dir) {
        return new AgentConfig(profile, backend, bindHost, port, maxModelBytes, maxConcurrentRuns,
                maxInboundMessageBytes, insecure, dir, tokenFile, tlsCert, tlsKey, defaultDeadline, maxInputTensors,
                backendConfig, runDir, runRetention);
    }

    /** Calls must carry the token held in {@code file} (null: no token). */
    public AgentConfig withTokenFile(Path file) {
        return new AgentConfig(profile, backend, bindHost, port, maxModelBytes, maxConcurrentRuns,
                maxInboundMessageBytes, insecure, modelDir, file, tlsCert, tlsKey, defaultDeadline, maxInputTensors,
                backendConfig, runDir, runRetention);
    }

    /** TLS from a PEM certificate chain and its PKCS#8 PEM key (both null: plaintext). */
    public AgentConfig withTls(Path cert, Path key) {
        return new AgentConfig(profile, backend, bindHost, port, maxModelBytes, maxConcurrentRuns,
                maxInboundMessageBytes, insecure, modelDir, tokenFile, cert, key, defaultDeadline, maxInputTensors,
                backendConfig, runDir, runRetention);
    }

    public AgentConfig withDefaultDeadline(Duration d) {
        return new AgentConfig(profile, backend, bindHost, port, maxModelBytes, maxConcurrentRuns,
                maxInboundMessageBytes, insecure, modelDir, tokenFile, tlsCert, tlsKey, d, maxInputTensors,
                backendConfig, runDir, runRetention);
    }

    public AgentConfig withMaxInputTensors(int n) {
        return new AgentConfig(profile, backend, bindHost, port, maxModelBytes, maxConcurrentRuns,
                maxInboundMessageBytes, insecure, modelDir, tokenFile, tlsCert, tlsKey, defaultDeadline, n,
                backendConfig, runDir, runRetention);
    }

    /** The agent's config file for backends that need one (null: none). */
    public AgentConfig withBackendConfig(Path file) {
        return new AgentConfig(profile, backend, bindHost, port, maxModelBytes, maxConcurrentRuns,
                maxInboundMessageBytes, insecure, modelDir, tokenFile, tlsCert, tlsKey, defaultDeadline, maxInputTensors,
                file, runDir, runRetention);
    }

    /** Runs stored in {@code dir} across restarts (null: a temporary directory deleted on close). */
    public AgentConfig withRunDir(Path dir) {
        return new AgentConfig(profile, backend, bindHost, port, maxModelBytes, maxConcurrentRuns,
                maxInboundMessageBytes, insecure, modelDir, tokenFile, tlsCert, tlsKey, defaultDeadline, maxInputTensors,
                backendConfig, dir, runRetention);
    }

    public AgentConfig withRunRetention(RunStore.Retention r) {
        return new AgentConfig(profile, backend, bindHost, port, maxModelBytes, maxConcurrentRuns,
                maxInboundMessageBytes, insecure, modelDir, tokenFile, tlsCert, tlsKey, defaultDeadline, maxInputTensors,
                backendConfig, runDir, r);
    }
}
