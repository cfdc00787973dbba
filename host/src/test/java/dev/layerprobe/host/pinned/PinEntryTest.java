package dev.layerprobe.host.pinned;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The comparison {@link PinnedCodesTest} relies on names every changed value, in layer order. */
class PinEntryTest {
    private static final String A = "a".repeat(64);
    private static final String B = "b".repeat(64);

    private static PinEntry entry(String secondLayer) {
        PinEntry e = new PinEntry();
        e.whole("qdq", A);
        Map<String, String> layers = new LinkedHashMap<>();
        layers.put("conv_1", A);
        layers.put("relu_2", secondLayer);
        e.run("fixed", layers);
        e.run("float", layers);
        return e;
    }

    @Test
    void anEntryMatchesItsOwnPins() {
        assertEquals(List.of(), entry(B).differences(entry(B).toJson()));
    }

    @Test
    void aChangedLayerIsNamedInEveryRun() {
        assertEquals(List.of("fixed: relu_2", "float: relu_2"), entry(A).differences(entry(B).toJson()));
    }

    @Test
    void aChangedWholeValueAMissingRunAndAMissingLayerAreNamed() {
        ObjectNode pins = entry(B).toJson();
        pins.put("qdq", B);
        pins.putArray("accumulator_int16_wrap").add(A).add(A);
        ((ArrayNode) pins.get("layers")).add("gemm_3");
        ((ArrayNode) pins.get("fixed")).add(A);
        assertEquals(
                List.of(
                        "qdq",
                        "fixed: gemm_3 (no such layer now)",
                        "fixed: 2 layers, pinned 3",
                        "float: gemm_3 (no such layer now)",
                        "float: 2 layers, pinned 3",
                        "accumulator_int16_wrap: not run"),
                entry(B).differences(pins));
    }
}
