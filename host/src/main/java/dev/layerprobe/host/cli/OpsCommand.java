package dev.layerprobe.host.cli;

import dev.layerprobe.simulator.kernels.SupportedOps;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code layerprobe ops}: the operators the simulator runs, and how a quantized program runs each. */
@Command(name = "ops", mixinStandardHelpOptions = true,
        description = "List the supported ONNX operators (markdown table): float kernel limits and int8 form.")
final class OpsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getOut().print(SupportedOps.markdownTable());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
