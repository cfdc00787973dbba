package dev.layerprobe.host.cli;

import dev.layerprobe.simulator.kernels.SupportedOps;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code layerprobe ops}: the operators the simulator runs and how a quantized program runs each,
 * then the activation patterns the compiler fuses into one layer; both from the simulator's op table.
 */
@Command(
        name = "ops",
        mixinStandardHelpOptions = true,
        description = "List the supported ONNX operators (markdown table): float kernel limits and int8 form;"
                + " then the activation patterns fused into one layer.")
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
