package dev.layerprobe.host.cli;

import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.host.analyze.ShardMerge;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.input.InputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code layerprobe merge}: the report of an analysis run in shards ({@code analyze --shard I/N}). */
@Command(
        name = "merge",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Combine the report folders of analyze --shard I/N runs into the report one run over every"
                + " input would have written.")
final class MergeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "DIR", description = "the shards' report folders, every shard once")
    List<Path> shards;

    @Option(
            names = "--report",
            paramLabel = "DIR",
            defaultValue = "layerprobe-report",
            description = "where the merged report.json, report.csv, report.html, inputs.csv and dumps/ go"
                    + " (default: ${DEFAULT-VALUE})")
    Path report;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call()
            throws InputException, LayerProbeException, GoldenException, AgentException, AgentSetupException,
                    IOException {
        ShardMerge.merge(shards, report, spec.commandLine().getOut());
        return 0;
    }
}
