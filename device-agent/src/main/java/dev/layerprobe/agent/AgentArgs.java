package dev.layerprobe.agent;

import dev.layerprobe.agent.backend.BackendProvider;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The standalone agent's command line, parsed into an {@link AgentConfig} without a CLI library
 * (a board gets a small class path). Options: {@code --port N}, {@code --bind ADDR},
 * {@code --profile FILE.yaml}, {@code --backend NAME}, {@code --backend-config FILE}, {@code --model-dir DIR},
 * {@code --max-model-mb N}, {@code --max-runs N}, {@code --max-message-mb N}, {@code --max-inputs N},
 * {@code --default-deadline-s N}, {@code --data-dir DIR}, {@code --keep-runs-mb N},
 * {@code --keep-runs-hours N}, {@code --token-file FILE}, {@code --tls-cert FILE},
 * {@code --tls-key FILE}, {@code --insecure}, {@code --help}. Stateless.
 */
final class AgentArgs {
    static final String USAGE = String.join("\n",
            "usage: java -cp ... dev.layerprobe.agent.AgentMain [options]",
            "  --port N           TCP port (default " + AgentConfig.DEFAULT_PORT + ", 0 = any free port)",
            "  --bind ADDR        address to listen on (default " + AgentConfig.DEFAULT_BIND_HOST + ")",
            "  --profile FILE     device profile YAML (default: the built-in emulated NPU)",
            "  --backend NAME     sim (the emulated NPU, default), ort (ONNX Runtime on this CPU) or exec (a vendor runtime)",
            "  --backend-config FILE  the agent's config file (the exec backend's runtime command)",
            "  --model-dir DIR    keep uploaded models in DIR across restarts",
            "  --max-model-mb N   largest model accepted, in MiB (default "
                    + (AgentConfig.DEFAULT_MAX_MODEL_BYTES >> 20) + ")",
            "  --max-runs N       concurrent runs (default " + AgentConfig.DEFAULT_MAX_CONCURRENT_RUNS + ")",
            "  --max-message-mb N largest message accepted, in MiB (default "
                    + (AgentConfig.DEFAULT_MAX_INBOUND_MESSAGE_BYTES >> 20) + ")",
            "  --max-inputs N     input tensors per run request (default " + AgentConfig.DEFAULT_MAX_INPUT_TENSORS
                    + ")",
            "  --default-deadline-s N  deadline of calls that set none, in seconds (default "
                    + AgentConfig.DEFAULT_DEADLINE.toSeconds() + ")",
            "  --token-file FILE  every call must carry this bearer token (file mode 600)",
            "  --tls-cert FILE    serve TLS with this PEM certificate chain (with --tls-key)",
            "  --tls-key FILE     the certificate's PKCS#8 PEM private key",
            "  --data-dir DIR     store runs in DIR/runs for ListRuns/PullDump (default " + AgentConfig.DEFAULT_DATA_DIR + ")",
            "  --keep-runs-mb N   stored runs beyond N MiB evict the oldest (default "
                    + (RunStore.Retention.DEFAULT_MAX_BYTES >> 20) + ")",
            "  --keep-runs-hours N  stored runs older than N hours are deleted (default "
                    + RunStore.Retention.DEFAULT_MAX_AGE.toHours() + ")",
            "  --insecure         allow a non-loopback --bind without a token");

    private static final String OPTIONS = "[--port, --bind, --profile, --backend, --backend-config, --model-dir, --max-model-mb, "
            + "--max-runs, --max-message-mb, --max-inputs, --default-deadline-s, --token-file, --tls-cert, --tls-key, "
            + "--data-dir, --keep-runs-mb, --keep-runs-hours, --insecure, --help]";

    /** Thrown for a bad command line; the message is one line for the user. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    private AgentArgs() {
    }

    /** @return the config, or null if help was asked for */
    static AgentConfig parse(String[] args) throws UsageException, LayerProbeException {
        AgentConfig c = AgentConfig.defaults().withRunDir(AgentConfig.DEFAULT_DATA_DIR.resolve("runs"));
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-h", "--help" -> {
                    return null;
                }
                case "--insecure" -> c = c.withInsecure(true);
                case "--port" -> c = c.withBind(c.bindHost(), intValue(a, value(args, ++i, a), 0, 65535));
                case "--bind" -> c = c.withBind(value(args, ++i, a), c.port());
                case "--profile" -> c = c.withProfile(DeviceProfile.load(Path.of(value(args, ++i, a))));
                case "--backend" -> c = c.withBackend(backend(value(args, ++i, a)));
                case "--backend-config" -> c = c.withBackendConfig(Path.of(value(args, ++i, a)));
                case "--model-dir" -> c = c.withModelDir(Path.of(value(args, ++i, a)));
                case "--max-model-mb" -> c = c.withMaxModelBytes((long) intValue(a, value(args, ++i, a), 1,
                        (int) (AgentConfig.MAX_MODEL_BYTES_LIMIT >> 20)) << 20);
                case "--max-runs" -> c = c.withMaxConcurrentRuns(intValue(a, value(args, ++i, a), 1, 1024));
                case "--data-dir" -> c = c.withRunDir(Path.of(value(args, ++i, a)).resolve("runs"));
                case "--keep-runs-mb" -> c = c.withRunRetention(new RunStore.Retention(
                        (long) intValue(a, value(args, ++i, a), 1, Integer.MAX_VALUE) << 20, c.runRetention().maxAge()));
                case "--keep-runs-hours" -> c = c.withRunRetention(new RunStore.Retention(c.runRetention().maxBytes(),
                        Duration.ofHours(intValue(a, value(args, ++i, a), 1, 100_000))));
                case "--max-message-mb" -> c = c.withMaxInboundMessageBytes(
                        intValue(a, value(args, ++i, a), 1, 1024) << 20);
                case "--max-inputs" -> c = c.withMaxInputTensors(intValue(a, value(args, ++i, a), 1, 100_000));
                case "--default-deadline-s" -> c = c.withDefaultDeadline(
                        Duration.ofSeconds(intValue(a, value(args, ++i, a), 1, 7 * 24 * 3600)));
                case "--token-file" -> c = c.withTokenFile(Path.of(value(args, ++i, a)));
                case "--tls-cert" -> c = c.withTls(Path.of(value(args, ++i, a)), c.tlsKey());
                case "--tls-key" -> c = c.withTls(c.tlsCert(), Path.of(value(args, ++i, a)));
                default -> throw new UsageException("unknown option '" + a + "', expected one of " + OPTIONS);
            }
        }
        return c;
    }

    private static String backend(String name) throws UsageException {
        List<String> names = BackendProvider.available().stream().map(BackendProvider::name).toList();
        if (!names.contains(name)) {
            throw new UsageException("unknown backend '" + name + "', expected one of " + names);
        }
        return name;
    }

    private static String value(String[] args, int i, String option) throws UsageException {
        if (i >= args.length) {
            throw new UsageException(option + " needs a value");
        }
        return args[i];
    }

    private static int intValue(String option, String s, int min, int max) throws UsageException {
        try {
            int v = Integer.parseInt(s);
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below, with the valid range
        }
        throw new UsageException(option + " needs an integer in [" + min + ", " + max + "], got '" + s + "'");
    }
}
