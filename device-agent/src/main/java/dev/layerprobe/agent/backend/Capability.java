package dev.layerprobe.agent.backend;

import java.util.Locale;

/**
 * What a {@link Backend} can do, as named constants (in the spirit of DJL's engine features). The
 * host reads them from {@code GetInfo} and only asks for what the device offers.
 */
public enum Capability {
    /** Runs a whole model and reports every layer's output ({@link LoadedModel#run}). */
    RUN,
    /** Reports quantized layers as their integer codes, not only as dequantized floats. */
    NATIVE_DUMPS,
    /** Runs one layer on host-supplied inputs ({@link LayerIsolation}): device-side isolation. */
    RUN_LAYER;

    /** The name on the wire: {@code run}, {@code native_dumps}, {@code run_layer}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
