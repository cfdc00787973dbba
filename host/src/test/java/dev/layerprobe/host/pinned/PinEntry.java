package dev.layerprobe.host.pinned;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pins of one model (or the demo): whole-value digests ({@code qdq}, {@code input},
 * {@code report}: full SHA-256), the layer names in execution order (every run of an entry has the
 * same layers) and, per run, one digest per layer in that order. Per-layer digests are kept as their first
 * {@value #LAYER_DIGEST_HEX} hex digits: 64 bits catch any changed code, and full digests would
 * make the file four times as large.
 */
final class PinEntry {
    static final int LAYER_DIGEST_HEX = 16;
    private static final String LAYERS = "layers";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, String> whole = new LinkedHashMap<>();
    private final Map<String, Map<String, String>> runs = new LinkedHashMap<>();

    void whole(String name, String sha256) {
        whole.put(name, sha256);
    }

    String whole(String name) {
        return whole.get(name);
    }

    /** One run's digests by layer name, in execution order (full SHA-256, shortened here). */
    void run(String name, Map<String, String> layers) {
        if (!runs.isEmpty()
                && !List.copyOf(runs.values().iterator().next().keySet()).equals(List.copyOf(layers.keySet()))) {
            throw new IllegalArgumentException("run " + name + " has other layers than " + runs.keySet());
        }
        Map<String, String> shortened = new LinkedHashMap<>();
        layers.forEach((layer, sha) -> shortened.put(layer, sha.substring(0, LAYER_DIGEST_HEX)));
        runs.put(name, shortened);
    }

    ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        whole.forEach(o::put);
        if (!runs.isEmpty()) {
            ArrayNode names = o.putArray(LAYERS);
            runs.values().iterator().next().keySet().forEach(names::add);
        }
        runs.forEach((name, layers) -> {
            ArrayNode digests = o.putArray(name);
            layers.values().forEach(digests::add);
        });
        return o;
    }

    /** What differs from the pinned JSON: whole values by name, layers as "run: layer", in order. */
    List<String> differences(JsonNode pinned) {
        List<String> out = new ArrayList<>();
        JsonNode names = pinned.path(LAYERS);
        for (Map.Entry<String, JsonNode> e : pinned.properties()) {
            String name = e.getKey();
            if (name.equals(LAYERS)) {
                continue;
            }
            if (!e.getValue().isArray()) {
                if (!e.getValue().asText().equals(whole.get(name))) {
                    out.add(name);
                }
                continue;
            }
            Map<String, String> got = runs.get(name);
            if (got == null) {
                out.add(name + ": not run");
                continue;
            }
            JsonNode digests = e.getValue();
            for (int i = 0; i < names.size(); i++) {
                String layer = names.get(i).asText();
                if (!digests.path(i).asText().equals(got.get(layer))) {
                    out.add(name + ": " + layer + (got.containsKey(layer) ? "" : " (no such layer now)"));
                }
            }
            if (got.size() != names.size()) {
                out.add(name + ": " + got.size() + " layers, pinned " + names.size());
            }
        }
        for (String name : runs.keySet()) {
            if (!pinned.has(name)) {
                out.add(name + ": not pinned");
            }
        }
        return out;
    }
}
