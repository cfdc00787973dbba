package dev.layerprobe.host.cli;

import dev.layerprobe.agent.NettyDefaults;
import dev.layerprobe.core.io.Terminal;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code layerprobe} command: subcommands for analysis, the device agent and the demo. */
@Command(
        name = "layerprobe",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Finds where a quantized network departs from its float model: in preprocessing, "
                + "quantization, or the device's runtime, layer by layer.",
        subcommands = {
            AnalyzeCommand.class,
            MergeCommand.class,
            CompareCommand.class,
            CheckInputCommand.class,
            QuantizeCommand.class,
            ProposeHybridCommand.class,
            PlanCommand.class,
            OpsCommand.class,
            DemoCommand.class,
            AgentCommand.class,
            InfoCommand.class,
            RunsCommand.class,
            PullCommand.class,
            CommandLine.HelpCommand.class
        })
public final class LayerProbeCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A command line with LayerProbe's error handling, writing to the given streams. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new LayerProbeCli());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler(new ExitCodes());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    public static void main(String[] args) {
        NettyDefaults.apply();
        PrintWriter out = Terminal.stdout();
        PrintWriter err = Terminal.stderr();
        int code = commandLine(out, err).execute(args);
        out.flush();
        err.flush();
        System.exit(code);
    }
}
