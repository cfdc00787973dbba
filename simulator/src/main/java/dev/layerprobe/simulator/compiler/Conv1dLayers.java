package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * A Conv over one spatial axis (Conv1d, as in audio and keyword-spotting front ends) run by the
 * 2-D integer kernels as an image of height 1: input [N, C, L] as [N, C, 1, L], weights [O, I, K]
 * as [O, I, 1, K], the attributes given a leading height entry (kernel 1, stride 1, dilation 1, no
 * padding), the output [N, O, 1, L'] read back as [N, O, L']. The arithmetic is the 2-D kernel's,
 * unchanged.
 */
final class Conv1dLayers {
    private Conv1dLayers() {}

    /** The node with 2-D attributes of height 1. */
    static Node as2d(Node conv) {
        Node n = new Node(conv.name(), conv.opType(), conv.domain(), conv.inputs(), conv.outputs(), conv.attributes());
        prepend(n, "kernel_shape", 1);
        prepend(n, "strides", 1);
        prepend(n, "dilations", 1);
        long[] pads = conv.attrInts("pads", null);
        if (pads != null) {
            if (pads.length != 2) {
                throw new IllegalArgumentException("Conv over one axis needs 2 pads, got " + Arrays.toString(pads));
            }
            n.attributes().put("pads", Attribute.ofInts(0, pads[0], 0, pads[1]));
        }
        return n;
    }

    /** Codes of rank 3 as rank 4 with a unit third axis: [a, b, c] as [a, b, 1, c]. */
    static QTensor unitHeight(QTensor t) {
        int[] s = t.shape();
        if (s.length != 3) {
            throw new IllegalArgumentException("Conv over one axis needs a 3-D input, got " + Arrays.toString(s));
        }
        return new QTensor(new int[] {s[0], s[1], 1, s[2]}, t.codes(), t.params());
    }

    /** The 2-D kernel's output [N, O, 1, L'] as [N, O, L']. */
    static QTensor dropHeight(QTensor t) {
        int[] s = t.shape();
        return new QTensor(new int[] {s[0], s[1], s[3]}, t.codes(), t.params());
    }

    private static void prepend(Node n, String attr, long first) {
        long[] v = n.attrInts(attr, null);
        if (v != null) {
            long[] w = new long[v.length + 1];
            w[0] = first;
            System.arraycopy(v, 0, w, 1, v.length);
            n.attributes().put(attr, Attribute.ofInts(w));
        }
    }
}
