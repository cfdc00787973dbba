package dev.layerprobe.host.cli;

import picocli.CommandLine;

/** Version from the jar manifest, or "development" when run from classes. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = LayerProbeCli.class.getPackage().getImplementationVersion();
        return new String[] {
            "layerprobe " + (v == null ? "development" : v) + ", Java " + System.getProperty("java.version")
        };
    }
}
