package dev.layerprobe.dump.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.dump.DumpFormatException;
import dev.layerprobe.dump.layout.FixedPointOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A user's mapping file ({@code --map MAP.yaml}): which ONNX layer each dump layer is, and the
 * quantization of raw fixed-point files that carry none. Every key is optional:
 *
 * <pre>
 * layers:
 *   conv1_output: /backbone/conv1/Conv_output_0      # dump name: ONNX tensor name
 *   "42":                                            # or with its quantization
 *     name: /head/DepthToSpace_output_0
 *     scale: 0.0123
 *     zero_point: 0
 *     dtype: int8                                    # int8 | uint8 | int16
 *     fix_pos: 5                                     # Vitis AI: scale 2^-5
 * scale: 0.05          # default scale of raw fixed-point files
 * zero_point: 0
 * fix_pos: 4           # default Vitis AI fix position
 * </pre>
 *
 * Immutable.
 *
 * @param names      dump layer name to ONNX layer name
 * @param fixedPoint quantization of raw fixed-point layers
 */
public record MapFile(Map<String, String> names, FixedPointOptions fixedPoint) {
    public static final MapFile NONE = new MapFile(Map.of(), FixedPointOptions.NONE);
    private static final List<String> TOP_KEYS = List.of("layers", "scale", "zero_point", "fix_pos");
    private static final List<String> LAYER_KEYS = List.of("name", "scale", "zero_point", "dtype", "fix_pos");

    public MapFile {
        names = Map.copyOf(names);
    }

    /**
     * Reads a mapping file.
     *
     * @throws IOException naming the file and the bad key or value
     */
    public static MapFile load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "mapping file not found");
        }
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
        } catch (IOException e) {
            throw new DumpFormatException(
                    "cannot read mapping file " + file + ": "
                            + String.valueOf(e.getMessage()).lines().findFirst().orElse(""),
                    e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return NONE;
        }
        if (!root.isObject()) {
            throw new DumpFormatException(file + ": expected a mapping with keys " + TOP_KEYS);
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!TOP_KEYS.contains(k)) {
                throw new DumpFormatException(file + ": unknown key '" + k + "', expected one of " + TOP_KEYS);
            }
        }
        Map<String, String> names = new LinkedHashMap<>();
        Map<String, FixedPointOptions.LayerQuant> quant = new LinkedHashMap<>();
        JsonNode layers = root.path("layers");
        if (!layers.isMissingNode() && !layers.isObject()) {
            throw new DumpFormatException(file + ": 'layers' must map dump layer names to ONNX names");
        }
        for (Map.Entry<String, JsonNode> e : layers.properties()) {
            JsonNode v = e.getValue();
            if (v.isTextual()) {
                names.put(e.getKey(), v.asText());
                continue;
            }
            if (!v.isObject()) {
                throw new DumpFormatException(file + ": layer '" + e.getKey()
                        + "' must be an ONNX name or a mapping with keys " + LAYER_KEYS);
            }
            for (Iterator<String> f = v.fieldNames(); f.hasNext(); ) {
                String k = f.next();
                if (!LAYER_KEYS.contains(k)) {
                    throw new DumpFormatException(file + ": layer '" + e.getKey() + "' has unknown key '" + k
                            + "', expected one of " + LAYER_KEYS);
                }
            }
            if (v.hasNonNull("name")) {
                names.put(e.getKey(), v.get("name").asText());
            }
            DType dtype = null;
            if (v.hasNonNull("dtype")) {
                String d = v.get("dtype").asText().toUpperCase(Locale.ROOT);
                if (!List.of("INT8", "UINT8", "INT16").contains(d)) {
                    throw new DumpFormatException(file + ": layer '" + e.getKey() + "' has dtype '"
                            + v.get("dtype").asText() + "', expected one of [int8, uint8, int16]");
                }
                dtype = DType.valueOf(d);
            }
            quant.put(
                    e.getKey(),
                    new FixedPointOptions.LayerQuant(
                            number(file, e.getKey(), v, "scale"),
                            v.hasNonNull("zero_point") ? v.get("zero_point").asLong() : null,
                            v.hasNonNull("fix_pos") ? v.get("fix_pos").asInt() : null,
                            dtype));
        }
        Double scale = number(file, "(top level)", root, "scale");
        return new MapFile(
                names,
                new FixedPointOptions(
                        quant,
                        scale,
                        root.hasNonNull("zero_point") ? root.get("zero_point").asLong() : 0,
                        root.hasNonNull("fix_pos") ? root.get("fix_pos").asInt() : null));
    }

    private static Double number(Path file, String where, JsonNode node, String key) throws IOException {
        if (!node.hasNonNull(key)) {
            return null;
        }
        JsonNode v = node.get(key);
        if (!v.isNumber() || !(v.asDouble() > 0)) {
            throw new DumpFormatException(
                    file + ": " + where + " " + key + " must be a positive number, got '" + v.asText() + "'");
        }
        return v.asDouble();
    }

    /** This file with other defaults for raw fixed point (command-line options win over the file's). */
    public MapFile withDefaults(Double scale, Long zeroPoint, Integer fixPos) {
        FixedPointOptions f = fixedPoint;
        return new MapFile(
                names,
                new FixedPointOptions(
                        f.perLayer(),
                        scale != null ? scale : f.scale(),
                        zeroPoint != null ? zeroPoint : f.zeroPoint(),
                        fixPos != null ? fixPos : f.fixPos()));
    }
}
