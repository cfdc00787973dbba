package dev.layerprobe.host.cli;

import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.client.EmbeddedDevice;
import dev.layerprobe.proto.v1.DeviceInfo;
import dev.layerprobe.proto.v1.Fault;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code layerprobe info}: what a device's agent says about itself ({@code GetInfo}). */
@Command(
        name = "info",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Print what the device's agent reports: device, backend, capabilities, profile, active"
                + " faults, model size limit and versions.")
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOptions target;

    @Override
    public Integer call() throws UsageException, LayerProbeException, AgentException, AgentSetupException, IOException {
        DeviceProfile profile = target.profile == null ? DeviceProfile.DEFAULT : DeviceProfile.load(target.profile);
        DeviceInfo info;
        String where;
        try (EmbeddedDevice device = EmbeddedDevice.connect(target.endpoint(), profile)) {
            info = device.client().info();
            where = target.devices == null
                    ? "embedded emulated device"
                    : device.client().target();
        }
        print(info, where, spec.commandLine().getOut());
        return 0;
    }

    static void print(DeviceInfo info, String where, PrintWriter out) {
        out.println("agent         " + where);
        out.println("device        " + info.getDevice());
        out.println("backend       " + info.getBackend());
        out.println("profile       " + (info.getProfile().isEmpty() ? "-" : info.getProfile()));
        out.println("capabilities  " + String.join(", ", info.getCapabilitiesList()));
        out.println("faults        "
                + (info.getFaultsCount() == 0
                        ? "none"
                        : info.getFaultsList().stream()
                                .map(InfoCommand::describe)
                                .collect(Collectors.joining(", "))));
        out.println("max model     " + (info.getMaxModelBytes() >> 20) + " MiB");
        out.println("versions      "
                + new TreeMap<>(info.getVersionsMap())
                        .entrySet().stream()
                                .map(e -> e.getKey() + " " + e.getValue())
                                .collect(Collectors.joining(", ")));
        out.flush();
    }

    private static String describe(Fault f) {
        return f.getKind() + " on " + (f.getLayer().isEmpty() ? "op " + f.getOp() : "layer " + f.getLayer());
    }
}
