package dev.layerprobe.simulator.quant;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.compiler.NameSuggestions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A hybrid-precision file: the layers that use another precision than the quantizer's default,
 * applied with {@link QuantConfig#withOverrides}. YAML:
 * <pre>
 * # layer (ONNX output tensor name) -&gt; int8 | uint8 | int16 | fp16 | float32
 * layers:
 *   /head/head.0/Conv_output_0: int16
 *   heatmaps: fp16
 * </pre>
 * Immutable.
 */
public final class HybridSpec {
    private final Map<String, LayerPrecision> layers;
    private final String source;

    private HybridSpec(Map<String, LayerPrecision> layers, String source) {
        this.layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
        this.source = source;
    }

    public static HybridSpec of(Map<String, LayerPrecision> layers) {
        return new HybridSpec(layers, "hybrid spec");
    }

    /** Reads a hybrid file; errors ({@link Code#BAD_INPUT}, {@link Code#IO}) name the file. */
    public static HybridSpec load(Path yaml) throws SimulatorException {
        String text;
        try {
            text = Files.readString(yaml);
        } catch (NoSuchFileException e) {
            throw new SimulatorException(Code.IO, "hybrid file not found: " + yaml);
        } catch (IOException e) {
            throw new SimulatorException(Code.IO, "cannot read hybrid file " + yaml + ": " + e.getMessage(), e);
        }
        return parse(text, yaml.toString());
    }

    /**
     * Parses hybrid YAML; {@code what} names the source in errors. Every unknown precision is named
     * in one {@link Code#BAD_INPUT} error with the valid ones.
     */
    public static HybridSpec parse(String yaml, String what) throws SimulatorException {
        ObjectMapper mapper =
                new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        Doc doc;
        try {
            doc = mapper.readValue(yaml, Doc.class);
        } catch (JsonProcessingException e) {
            throw new SimulatorException(
                    Code.BAD_INPUT, "hybrid file " + what + " is not valid: " + e.getOriginalMessage(), e);
        }
        if (doc == null || doc.layers == null) {
            throw new SimulatorException(
                    Code.BAD_INPUT,
                    "hybrid file " + what + " has no 'layers' map" + " (layer name -> one of " + LayerPrecision.names()
                            + ")");
        }
        Map<String, LayerPrecision> layers = new LinkedHashMap<>();
        List<String> bad = new ArrayList<>();
        for (Map.Entry<String, String> e : doc.layers.entrySet()) {
            try {
                layers.put(e.getKey(), LayerPrecision.parse(e.getValue()));
            } catch (IllegalArgumentException ex) {
                bad.add("'" + e.getKey() + "': '" + e.getValue() + "'");
            }
        }
        if (!bad.isEmpty()) {
            throw new SimulatorException(
                    Code.BAD_INPUT,
                    "hybrid file " + what + ": unknown precision for " + String.join(", ", bad) + "; expected one of "
                            + LayerPrecision.names());
        }
        return new HybridSpec(layers, what);
    }

    /** Layer name to precision, in file order. */
    public Map<String, LayerPrecision> layers() {
        return layers;
    }

    /**
     * Checks that every named layer exists in the (float) program.
     *
     * @throws SimulatorException {@link Code#BAD_INPUT} naming every missing layer with the closest
     *                            existing names
     */
    public void validate(NpuProgram floatProgram) throws SimulatorException {
        Set<String> known = floatProgram.layers().stream()
                .map(Layer::name)
                .collect(Collectors.toCollection(java.util.LinkedHashSet::new));
        List<String> missing = new ArrayList<>();
        for (String layer : layers.keySet()) {
            if (!known.contains(layer)) {
                missing.add("'" + layer + "' (closest: " + NameSuggestions.closest(layer, known, 3) + ")");
            }
        }
        if (!missing.isEmpty()) {
            throw new SimulatorException(
                    Code.BAD_INPUT,
                    source + ": no layer named " + String.join(", ", missing) + " in model "
                            + floatProgram.modelName());
        }
    }

    @Override
    public String toString() {
        return "HybridSpec"
                + layers.entrySet().stream()
                        .map(e -> e.getKey() + ": " + e.getValue().yamlName())
                        .collect(Collectors.joining(", ", "{", "}"));
    }

    private static final class Doc {
        @com.fasterxml.jackson.annotation.JsonProperty
        Map<String, String> layers;
    }
}
