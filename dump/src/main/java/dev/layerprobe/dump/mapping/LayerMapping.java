package dev.layerprobe.dump.mapping;

import dev.layerprobe.dump.layout.DumpedLayer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * How a dump's layers map to the layers they are compared with (ONNX tensor names), and what could
 * not be mapped: dump layers with no counterpart and target layers no dump layer maps to. Both are
 * listed in reports, never dropped silently. Immutable.
 *
 * @param entries          one per mapped dump layer, in the dump's order
 * @param unmappedDump     dump layers that map to nothing
 * @param unmatchedTargets target layer names that no dump layer maps to
 */
public record LayerMapping(List<Entry> entries, List<DumpedLayer> unmappedDump, List<String> unmatchedTargets) {

    public LayerMapping {
        entries = List.copyOf(entries);
        unmappedDump = List.copyOf(unmappedDump);
        unmatchedTargets = List.copyOf(unmatchedTargets);
    }

    /** How a dump layer was matched to its target. */
    public enum Method {
        /** Named in the user's mapping file. */
        FILE("mapping file"),
        /** The same name. */
        EXACT("exact name"),
        /** The same name once every character outside [A-Za-z0-9] is replaced by '_'. */
        SANITISED("sanitised name"),
        /** The next unmapped layer in execution order with a compatible op type and size. */
        ORDER("order+op+shape");

        private final String label;

        Method(String label) {
            this.label = label;
        }

        /** How reports show it. */
        public String label() {
            return label;
        }
    }

    /**
     * One mapped layer.
     *
     * @param from      the dump layer
     * @param to        the target layer's name
     * @param method    how it was matched
     * @param nhwc      true when the dump holds it channels-last and it is converted to channels-first
     */
    public record Entry(DumpedLayer from, String to, Method method, boolean nhwc) {
        /** A one-line description for reports: {@code vendor_name -> onnx_name (sanitised name, NHWC->NCHW)}. */
        public String describe() {
            return from.name() + " -> " + to + " (" + method.label() + (nhwc ? ", NHWC->NCHW" : "") + ")";
        }
    }

    /** The entry mapping to a target layer, if any. */
    public Optional<Entry> forTarget(String target) {
        return entries.stream().filter(e -> e.to().equals(target)).findFirst();
    }

    /** Entries by target name. */
    public Map<String, Entry> byTarget() {
        return entries.stream().collect(Collectors.toMap(Entry::to, Function.identity(), (a, b) -> a));
    }

    /** How many entries each method produced, for a summary line. */
    public Map<Method, Long> countByMethod() {
        return entries.stream()
                .collect(Collectors.groupingBy(
                        Entry::method, () -> new java.util.EnumMap<>(Method.class), Collectors.counting()));
    }
}
