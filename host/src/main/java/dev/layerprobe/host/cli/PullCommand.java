package dev.layerprobe.host.cli;

import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.progress.Progress;
import dev.layerprobe.host.pull.RunPull;
import dev.layerprobe.proto.v1.RunInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code layerprobe pull}: a run the agent stored, as a dump directory; resumes an interrupted pull. */
@Command(
        name = "pull",
        mixinStandardHelpOptions = true,
        description = "Pull a run the agent has stored into a dump directory (manifest.json and one .npy per"
                + " layer). Run it again after an interruption: complete layers are kept, a partial layer"
                + " continues where it stopped, and every layer's sha256 is checked against the agent's.")
final class PullCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOptions target;

    @Option(
            names = "--run",
            required = true,
            paramLabel = "ID",
            description = "the run id (layerprobe runs lists them)")
    String run;

    @Option(
            names = {"-o", "--output"},
            required = true,
            paramLabel = "DIR",
            description = "the dump directory")
    Path output;

    @Option(
            names = "--chunk-kb",
            paramLabel = "N",
            defaultValue = "0",
            description = "KiB per message to ask for (default: the agent's choice)")
    int chunkKb;

    @Option(
            names = "--bulk-port",
            paramLabel = "N",
            description = "the agent's bulk port as this host reaches it, where a tunnel maps it to another"
                    + " number (default: the port the agent names); 'off' pulls over gRPC only")
    String bulkPort;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() throws UsageException, AgentException, IOException {
        if (target.devices == null) {
            throw new UsageException("pull needs --device HOST:PORT, the agent that stored the run");
        }
        if (target.profile != null) {
            throw new UsageException(
                    "--profile configures an emulated device; pull reads a running agent's stored runs");
        }
        if (run == null || run.isBlank()) {
            throw new UsageException("--run needs a run id; layerprobe runs --device HOST:PORT lists them");
        }
        if (chunkKb < 0 || chunkKb > (4 << 10)) {
            throw new UsageException("--chunk-kb must be in [0, 4096], got " + chunkKb);
        }
        AgentClient.Options options = AgentClient.Options.DEFAULT.withBulkPort(bulkPort());
        PrintWriter out = spec.commandLine().getOut();
        try (AgentClient client = AgentClient.connect(target.endpoint(), options)) {
            RunInfo info = client.storedRun(run);
            long start = System.nanoTime();
            RunPull.Result r;
            try (Progress progress = Progress.start("pulling bytes", info.getTotalBytes(), out)) {
                r = new RunPull(client, chunkKb << 10).pull(run, output, progress::stepBy);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            out.println(String.format(
                    Locale.ROOT,
                    "pulled run %s: %d layers (%d already there, %d resumed), %.1f MiB"
                            + " received in %.2f s (%.0f MiB/s) into %s; every layer's sha256 matches the agent's",
                    run,
                    r.layers(),
                    r.kept(),
                    r.resumed(),
                    r.bytesReceived() / 1048576.0,
                    seconds,
                    r.bytesReceived() / 1048576.0 / Math.max(seconds, 1e-9),
                    output));
            // Only when a pull went over gRPC for a reason worth fixing (a bulk port not forwarded),
            // not when asked to or when the agent has none.
            client.bulkUnreachable().ifPresent(why -> out.println("note: " + why));
            out.flush();
        }
        return 0;
    }

    private int bulkPort() throws UsageException {
        if (bulkPort == null) {
            return AgentClient.Options.BULK_ADVERTISED;
        }
        if (bulkPort.equalsIgnoreCase("off")) {
            return AgentClient.Options.BULK_OFF;
        }
        try {
            int p = Integer.parseInt(bulkPort);
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("--bulk-port must be a port in [1, 65535] or 'off', got '" + bulkPort + "'");
    }
}
