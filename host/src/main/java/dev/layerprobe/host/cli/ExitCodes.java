package dev.layerprobe.host.cli;

import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.core.ExitCode;
import dev.layerprobe.core.OneLine;
import dev.layerprobe.dump.DumpFormatException;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.input.InputException;
import java.io.UncheckedIOException;
import picocli.CommandLine;

/**
 * The one place that maps failures to exit codes and one-line messages. Exit codes:
 * <ul>
 *   <li>0: the command ran (an analysis that finds faults still exits 0);</li>
 *   <li>2: bad command line (picocli's usage error);</li>
 *   <li>3: bad input: missing or malformed file, wrong shape, bad profile, an unusable token or TLS
 *       file, an agent setup it refuses (an exposed address without a token);</li>
 *   <li>4: the model uses something the simulator does not support;</li>
 *   <li>5: the device could not be reached or failed;</li>
 *   <li>6: the reference run (ONNX Runtime) failed;</li>
 *   <li>1: anything else (an internal error; rerun with --verbose for the stack trace).</li>
 * </ul>
 */
final class ExitCodes implements CommandLine.IExecutionExceptionHandler {
    static final int BAD_INPUT = ExitCode.BAD_INPUT.value();
    static final int UNSUPPORTED = ExitCode.UNSUPPORTED.value();
    static final int DEVICE = ExitCode.DEVICE.value();
    static final int REFERENCE = ExitCode.REFERENCE.value();

    @Override
    public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        boolean verbose = isVerbose(parsed);
        Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
        cmd.getErr().println(cmd.getColorScheme().errorText("layerprobe: " + message(t)));
        if (verbose) {
            t.printStackTrace(cmd.getErr());
        }
        cmd.getErr().flush();
        return code(t);
    }

    static int code(Throwable t) {
        if (t instanceof InputException
                || t instanceof UsageException
                || t instanceof AgentSetupException
                || t instanceof DumpFormatException) {
            return BAD_INPUT;
        }
        if (t instanceof AgentException a) {
            return a.code() == AgentException.Code.BAD_ADDRESS || a.code() == AgentException.Code.BAD_CREDENTIALS
                    ? BAD_INPUT
                    : DEVICE;
        }
        if (t instanceof GoldenException) {
            return REFERENCE;
        }
        return ExitCode.of(t).value();
    }

    static String message(Throwable t) {
        if (t instanceof DumpFormatException && t.getMessage() != null) {
            return t.getMessage();
        }
        return OneLine.forUser(t);
    }

    private static boolean isVerbose(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }
}
