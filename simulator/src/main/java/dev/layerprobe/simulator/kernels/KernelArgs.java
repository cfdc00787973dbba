package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * Reading a kernel's arguments: optional inputs (a trailing omitted input may be absent from the
 * array altogether), axes, integer-list inputs, and attribute values checked against their valid
 * set. Every failure is an {@link IllegalArgumentException} that names the argument.
 */
final class KernelArgs {
    private KernelArgs() {}

    /** Input i, or null if omitted or beyond the node's input list. */
    static Tensor optional(Tensor[] inputs, int i) {
        return i < inputs.length ? inputs[i] : null;
    }

    /** Input i, which must be present. */
    static Tensor required(Tensor[] inputs, int i, String what) {
        Tensor t = optional(inputs, i);
        if (t == null) {
            throw new IllegalArgumentException("required input " + i + " (" + what + ") is missing");
        }
        return t;
    }

    /** An axis in [-rank, rank) normalised to [0, rank). */
    static int axis(long axis, int rank, String attr) {
        if (axis < -rank || axis >= rank) {
            throw new IllegalArgumentException(attr + "=" + axis + " is out of range for rank " + rank + " (valid: "
                    + -rank + ".." + (rank - 1) + ")");
        }
        return (int) (axis < 0 ? axis + rank : axis);
    }

    /** The integer values of a 0-D or 1-D integer tensor (shapes, axes, pads, ...). */
    static long[] longs(Tensor t, String what) {
        if (t.isFloating()) {
            throw new IllegalArgumentException(what + " must be an integer tensor, got " + t.dtype());
        }
        return t.longs().clone();
    }

    /** Checks a string attribute against its valid values. */
    static String oneOf(Node node, String attr, String dflt, String... valid) {
        String v = node.attrString(attr, dflt);
        for (String ok : valid) {
            if (ok.equals(v)) {
                return v;
            }
        }
        throw new IllegalArgumentException(
                attr + "='" + v + "' is not supported (valid: " + Arrays.toString(valid) + ")");
    }

    /** Checks an integer attribute against its valid values. */
    static long oneOf(Node node, String attr, long dflt, long... valid) {
        long v = node.attrInt(attr, dflt);
        for (long ok : valid) {
            if (ok == v) {
                return v;
            }
        }
        throw new IllegalArgumentException(
                attr + "=" + v + " is not supported (valid: " + Arrays.toString(valid) + ")");
    }

    static int[] toInts(long[] v) {
        int[] r = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = Math.toIntExact(v[i]);
        }
        return r;
    }

    /** Fails with a clear message when a kernel that computes in float gets an integer tensor. */
    static void requireFloating(Tensor t, String what) {
        if (!t.isFloating()) {
            throw new IllegalArgumentException(
                    what + " of type " + t.dtype() + " is not supported (valid: FLOAT32, FLOAT16, DOUBLE)");
        }
    }
}
