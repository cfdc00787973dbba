package dev.layerprobe.host.cli;

import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.proto.v1.RunInfo;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code layerprobe runs}: the runs an agent has stored, newest first. */
@Command(
        name = "runs",
        mixinStandardHelpOptions = true,
        description = "List the runs an agent has stored (newest first), for layerprobe pull.")
final class RunsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOptions target;

    @Override
    public Integer call() throws UsageException, AgentException {
        if (target.devices == null) {
            throw new UsageException("runs needs --device HOST:PORT, the agent whose runs to list");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (AgentClient client = AgentClient.connect(target.endpoint(), AgentClient.Options.DEFAULT)) {
            List<RunInfo> runs = client.listRuns();
            if (runs.isEmpty()) {
                out.println("no stored runs on " + client.target());
            }
            for (RunInfo r : runs) {
                out.println(String.format(
                        Locale.ROOT,
                        "%s  %s  %4d layers  %10.1f MiB  model %s",
                        r.getRunId(),
                        Instant.ofEpochMilli(r.getCreatedUnixMillis()),
                        r.getLayers(),
                        r.getTotalBytes() / 1048576.0,
                        r.getModelId()));
            }
            out.flush();
        }
        return 0;
    }
}
