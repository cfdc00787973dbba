package dev.layerprobe.simulator;

/** Where a layer runs on the device: the NPU (integer or fp16 kernels) or the CPU (float). */
public enum Placement {
    NPU,
    CPU;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
