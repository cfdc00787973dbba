package dev.layerprobe.agent;

import dev.layerprobe.core.ExitCode;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.OneLine;
import dev.layerprobe.core.io.Terminal;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The standalone agent for boards, {@code layerprobe-agent} ({@code packaging/bin}): the options
 * of {@code layerprobe agent} ({@link AgentOptions}) on a command line of its own, without the
 * host's commands. Serves until the process is stopped; SIGTERM shuts it down gracefully.
 *
 * <p>Exit codes are LayerProbe's ({@link ExitCode}), the same as {@code layerprobe agent}'s for the
 * same failure: 0 after a clean shutdown, 2 for a bad command line, 3 for bad input or a setup the
 * agent refuses (a value out of range, an unknown backend, an unusable token or TLS file, an
 * exposed address without a token), 5 for a backend whose runtime cannot load, 1 otherwise.
 * Errors are one line on stderr, with the stack trace under {@code --verbose}.
 */
@Command(
        name = "layerprobe-agent",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        versionProvider = AgentMain.Version.class,
        description = AgentMain.DESCRIPTION)
public final class AgentMain implements Callable<Integer> {
    /** What the agent is, for the help of both commands that start one. */
    public static final String DESCRIPTION = "Run the device agent: a gRPC server that executes quantized models"
            + " and streams every layer. With --backend sim (the default) it emulates an NPU with the simulator and"
            + " the profile's numerics and faults; with --backend ort it runs models in ONNX Runtime on this machine's"
            + " CPU; with --backend exec it runs the board's vendor runtime as a command.";

    @Mixin
    AgentOptions options;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        NettyDefaults.apply();
        System.exit(commandLine(Terminal.stdout(), Terminal.stderr()).execute(args));
    }

    /** The standalone agent's command line, writing to the given streams. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new AgentMain());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            AgentMain main = cmd.getCommand();
            cmd.getErr().println(cmd.getColorScheme().errorText("layerprobe-agent: " + OneLine.forUser(e)));
            if (main.options.verbose) {
                e.printStackTrace(cmd.getErr());
            }
            cmd.getErr().flush();
            return exitCode(e).value();
        });
        return cl;
    }

    /** How a failure to start an agent exits; {@code layerprobe agent} maps the same exceptions the same way. */
    static ExitCode exitCode(Throwable e) {
        return e instanceof AgentSetupException ? ExitCode.BAD_INPUT : ExitCode.of(e);
    }

    @Override
    public Integer call() throws LayerProbeException, AgentSetupException, IOException {
        serve(options.config(), spec.commandLine().getOut());
        return ExitCode.OK.value();
    }

    /**
     * Starts an agent over Netty, prints its banner and where it stores runs, and serves until the
     * process is stopped: SIGTERM closes it gracefully (see {@link AgentServer#close()}).
     *
     * @throws AgentSetupException when the agent refuses the config, see {@link AgentServer#netty}
     * @throws LayerProbeException when the backend cannot be created
     * @throws IOException         when the agent cannot listen or open its stores
     */
    public static void serve(AgentConfig config, PrintWriter out)
            throws LayerProbeException, AgentSetupException, IOException {
        try (AgentServer server = AgentServer.netty(config)) {
            server.start();
            out.println(server.banner()
                    + (server.bulkPort() > 0 ? "; bulk pulls on port " + server.bulkPort() : "")
                    + "; runs stored in " + server.runs().dir());
            out.flush();
            Runtime.getRuntime().addShutdownHook(new Thread(server::close, "layerprobe-agent-shutdown"));
            server.awaitTermination();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code layerprobe-agent --version}: the device agent's artifact version and the Java runtime. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {
                "layerprobe-agent " + ArtifactVersion.of(AgentMain.class, "layerprobe-device-agent") + ", Java "
                        + System.getProperty("java.version")
            };
        }
    }
}
