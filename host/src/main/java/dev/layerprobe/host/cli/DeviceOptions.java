package dev.layerprobe.host.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Which device a command talks to: a running agent, or an emulated one started in this process. */
final class DeviceOptions {
    @Option(names = "--device", paramLabel = "HOST:PORT",
            description = "a running agent (default: an emulated device started in this process)")
    String device;

    @Option(names = "--profile", paramLabel = "P.yaml",
            description = "device profile for the emulated device: numerics and faults")
    Path profile;
}
