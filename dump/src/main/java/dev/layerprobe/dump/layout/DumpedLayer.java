package dev.layerprobe.dump.layout;

/**
 * One layer as a dump holds it, before any mapping to the ONNX graph.
 *
 * @param index  position in the dump's execution order, from 0
 * @param name   the name the dump gives it (a vendor tensor name, possibly sanitised or renamed)
 * @param op     the op type the dump records (vendor spelling, e.g. RKNN's {@code ConvClip}), or null
 * @param shape  the dimensions the dump records, or null when the layout carries none (text and raw
 *               binary files): such layers take their shape from the layer they are mapped to
 * @param nhwc   true when the data is channels-last ({@code N,H,W,C}), as a DPU writes it; false for
 *               channels-first or unknown
 * @param file   the file holding the data, relative to the dump folder
 */
public record DumpedLayer(int index, String name, String op, int[] shape, boolean nhwc, String file) {

    /** The number of elements the recorded shape holds, or -1 when the dump records no shape. */
    public long size() {
        if (shape == null) {
            return -1;
        }
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }
}
