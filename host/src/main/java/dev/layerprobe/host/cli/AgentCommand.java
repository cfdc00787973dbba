package dev.layerprobe.host.cli;

import dev.layerprobe.agent.AgentMain;
import dev.layerprobe.agent.AgentOptions;
import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.core.LayerProbeException;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code layerprobe agent}: serve a backend over gRPC: the emulated device (the simulator, the
 * default), ONNX Runtime on this machine's CPU ({@code --backend ort}) or a vendor runtime
 * ({@code --backend exec}). The options and the serving are the standalone agent's
 * ({@link AgentOptions}, {@link AgentMain#serve}); failures exit through {@link ExitCodes}, as the
 * standalone agent's do through the same table: for instance 3, with a one-line reason, on a
 * non-loopback address without {@code --token-file} or {@code --insecure}, or with unusable token
 * or TLS files.
 */
@Command(name = "agent", mixinStandardHelpOptions = true, sortOptions = false, description = AgentMain.DESCRIPTION)
final class AgentCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    AgentOptions options;

    @Override
    public Integer call() throws LayerProbeException, AgentSetupException, IOException {
        AgentMain.serve(options.config(), spec.commandLine().getOut());
        return 0;
    }
}
