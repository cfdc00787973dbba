package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.simulator.graph.Node;

/**
 * Spatial geometry of a 2-D convolution or pooling window: strides, dilations and pads (explicit
 * or from auto_pad), resolved against a concrete input size. Immutable once resolved.
 */
public record ConvGeometry(int kh, int kw, int sh, int sw, int dh, int dw, int padTop, int padLeft, int oh, int ow) {

    /** Resolves the node's attributes for an input of height ih and width iw. */
    public static ConvGeometry of(Node n, int kh, int kw, int ih, int iw) {
        long[] strides = n.attrInts("strides", new long[] {1, 1});
        long[] dil = n.attrInts("dilations", new long[] {1, 1});
        long[] pads = n.attrInts("pads", new long[] {0, 0, 0, 0});
        String auto = n.attrString("auto_pad", "NOTSET");
        if (strides.length != 2 || dil.length != 2 || pads.length != 4) {
            throw new IllegalArgumentException("only 2-D windows are supported here");
        }
        int sh = (int) strides[0];
        int sw = (int) strides[1];
        int dh = (int) dil[0];
        int dw = (int) dil[1];
        int ekh = (kh - 1) * dh + 1;
        int ekw = (kw - 1) * dw + 1;
        int pt;
        int pl;
        int pb;
        int pr;
        switch (auto) {
            case "NOTSET" -> {
                pt = (int) pads[0];
                pl = (int) pads[1];
                pb = (int) pads[2];
                pr = (int) pads[3];
            }
            case "VALID" -> {
                pt = 0;
                pl = 0;
                pb = 0;
                pr = 0;
            }
            case "SAME_UPPER", "SAME_LOWER" -> {
                int oh = (ih + sh - 1) / sh;
                int ow = (iw + sw - 1) / sw;
                int tph = Math.max(0, (oh - 1) * sh + ekh - ih);
                int tpw = Math.max(0, (ow - 1) * sw + ekw - iw);
                boolean upper = auto.equals("SAME_UPPER");
                pt = upper ? tph / 2 : tph - tph / 2;
                pl = upper ? tpw / 2 : tpw - tpw / 2;
                pb = tph - pt;
                pr = tpw - pl;
            }
            default ->
                throw new IllegalArgumentException(
                        "auto_pad '" + auto + "' is not one of [NOTSET, VALID, SAME_UPPER, SAME_LOWER]");
        }
        int oh = (ih + pt + pb - ekh) / sh + 1;
        int ow = (iw + pl + pr - ekw) / sw + 1;
        return new ConvGeometry(kh, kw, sh, sw, dh, dw, pt, pl, oh, ow);
    }
}
