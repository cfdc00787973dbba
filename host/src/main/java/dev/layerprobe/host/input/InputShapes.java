package dev.layerprobe.host.input;

import dev.layerprobe.simulator.graph.ValueInfo;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Resolves a model input's shape, which may have dynamic dimensions (-1), against what the user
 * gave: {@code --input-shape name=1x3x640x640} fixes every dimension; {@code --size WxH} fixes the
 * spatial size of an NCHW image input; a dynamic batch becomes 1. Dimensions still dynamic after
 * that (-1) are taken from the first input file (an image's own size, a .npy's shape).
 */
public final class InputShapes {
    private InputShapes() {}

    /** Parses {@code name=1x3x640x640} (repeatable option values) into shapes by input name. */
    public static Map<String, int[]> parse(Iterable<String> specs) throws InputException {
        Map<String, int[]> out = new LinkedHashMap<>();
        if (specs == null) {
            return out;
        }
        for (String s : specs) {
            int eq = s.lastIndexOf('=');
            if (eq <= 0 || eq == s.length() - 1) {
                throw new InputException("--input-shape takes NAME=DIMS such as input=1x3x224x224, got '" + s + "'");
            }
            out.put(s.substring(0, eq), dims(s.substring(eq + 1), "--input-shape " + s));
        }
        return out;
    }

    /** Parses {@code WxH}; returns {H, W}. */
    public static int[] parseSize(String size) throws InputException {
        int[] wh = dims(size, "--size " + size);
        if (wh.length != 2) {
            throw new InputException("--size takes WIDTHxHEIGHT such as 640x480, got '" + size + "'");
        }
        return new int[] {wh[1], wh[0]};
    }

    private static int[] dims(String text, String what) throws InputException {
        String[] parts = text.toLowerCase(Locale.ROOT).split("[x,]", -1);
        int[] d = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                d[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                d[i] = -1;
            }
            if (d[i] <= 0) {
                throw new InputException(what + ": '" + parts[i] + "' is not a positive dimension");
            }
        }
        return d;
    }

    /**
     * The shape to load inputs with: the model's, overridden by {@code given} (exact) or by
     * {@code heightWidth} (for rank-4 inputs), with a dynamic batch set to 1; -1 where still dynamic.
     */
    public static int[] resolve(ValueInfo input, int[] given, int[] heightWidth) throws InputException {
        int[] model = input.shape();
        if (given != null) {
            if (model.length != 0 && given.length != model.length) {
                throw new InputException("--input-shape for '" + input.name() + "' has " + given.length
                        + " dimensions, the model input has " + model.length + " " + describe(model));
            }
            for (int i = 0; i < model.length; i++) {
                if (model[i] > 0 && model[i] != given[i]) {
                    throw new InputException("--input-shape " + describe(given) + " for '" + input.name()
                            + "' contradicts the model's fixed dimension " + i + " = " + model[i]);
                }
            }
            return given.clone();
        }
        int[] s = model.clone();
        if (heightWidth != null) {
            if (s.length != 4) {
                throw new InputException(
                        "--size applies to NCHW image inputs; '" + input.name() + "' has shape " + describe(model));
            }
            for (int i = 0; i < 2; i++) {
                if (s[2 + i] > 0 && s[2 + i] != heightWidth[i]) {
                    throw new InputException("--size gives " + (i == 0 ? "height " : "width ") + heightWidth[i]
                            + " but the model's input '" + input.name() + "' is fixed at " + s[2 + i]
                            + "; leave --size out to resize images to the model");
                }
                s[2 + i] = heightWidth[i];
            }
        }
        if (s.length > 0 && s[0] <= 0) {
            s[0] = 1;
        }
        return s;
    }

    public static boolean isStatic(int[] shape) {
        return Arrays.stream(shape).allMatch(d -> d > 0);
    }

    public static String describe(int[] shape) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            b.append(i > 0 ? "x" : "").append(shape[i] > 0 ? Integer.toString(shape[i]) : "?");
        }
        return b.toString();
    }
}
