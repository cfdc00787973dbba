package dev.layerprobe.host.analyze;

/** What the simulator and the device compute in during an analysis. */
public enum Precision {
    /** Quantized: int8 activations per tensor, int8 weights per channel, int32 bias (the default). */
    INT8,
    /** Unquantized: the float simulator and device against ONNX Runtime, to check the simulator itself. */
    FLOAT32
}
