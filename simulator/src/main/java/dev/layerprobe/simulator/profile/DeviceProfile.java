package dev.layerprobe.simulator.profile;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.simulator.SimulatorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * An emulated device (docs/architecture.md#device-profiles-and-faults): its name, numerics and deliberate faults. Loaded from YAML:
 * <pre>
 * name: my-npu
 * requant: fixed          # or float
 * recurrent_state: int16  # or int8: the hidden state of integer LSTM, GRU and RNN layers
 * faults:
 *   - kind: depth_to_space_mode_swap
 *     layer: 123          # an ONNX output tensor name, or
 *     # op: DepthToSpace  # every layer of this op type
 * </pre>
 * Immutable.
 */
public record DeviceProfile(
        String name, RequantMode requant, RecurrentState recurrentState, List<Fault> faults, String yaml) {

    /** The default emulated NPU: fixed-point requantization, int16 recurrent state, no faults. */
    public static final DeviceProfile DEFAULT = new DeviceProfile("layerprobe-npu", RequantMode.FIXED, List.of(), "");

    public DeviceProfile {
        faults = List.copyOf(faults);
    }

    /** A profile with the default recurrent state (int16). */
    public DeviceProfile(String name, RequantMode requant, List<Fault> faults, String yaml) {
        this(name, requant, RecurrentState.INT16, faults, yaml);
    }

    public DeviceProfile withRequant(RequantMode mode) {
        return new DeviceProfile(name, mode, recurrentState, faults, yaml);
    }

    /** The same device without its faults: what the host simulator computes for it. */
    public DeviceProfile withoutFaults() {
        return new DeviceProfile(name, requant, recurrentState, List.of(), "");
    }

    public static DeviceProfile load(Path file) throws SimulatorException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new SimulatorException(Code.IO, "profile not found: " + file);
        } catch (IOException e) {
            throw new SimulatorException(Code.IO, "cannot read profile " + file + ": " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** Parses profile YAML; {@code what} names the source in errors. */
    public static DeviceProfile parse(String yaml, String what) throws SimulatorException {
        ObjectMapper mapper =
                new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        Doc doc;
        try {
            doc = mapper.readValue(yaml, Doc.class);
        } catch (JsonProcessingException e) {
            throw new SimulatorException(
                    Code.BAD_PROFILE, "profile " + what + " is not valid: " + e.getOriginalMessage(), e);
        }
        if (doc == null) {
            throw new SimulatorException(Code.BAD_PROFILE, "profile " + what + " is empty");
        }
        RequantMode mode = RequantMode.FIXED;
        if (doc.requant != null) {
            try {
                mode = RequantMode.valueOf(doc.requant.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new SimulatorException(
                        Code.BAD_PROFILE,
                        "profile " + what + ": requant '" + doc.requant + "' is not one of [fixed, float]");
            }
        }
        RecurrentState state = RecurrentState.INT16;
        if (doc.recurrentState != null) {
            state = Arrays.stream(RecurrentState.values())
                    .filter(r -> r.yamlName().equals(doc.recurrentState))
                    .findFirst()
                    .orElseThrow(() -> new SimulatorException(
                            Code.BAD_PROFILE,
                            "profile " + what + ": recurrent_state '" + doc.recurrentState
                                    + "' is not one of [int16, int8]"));
        }
        List<Fault> faults = new ArrayList<>();
        if (doc.faults != null) {
            for (FaultDoc f : doc.faults) {
                try {
                    if (f.kind == null) {
                        throw new IllegalArgumentException(
                                "a fault has no 'kind', expected one of " + FaultKind.names());
                    }
                    faults.add(new Fault(FaultKind.parse(f.kind), f.layer, f.op));
                } catch (IllegalArgumentException e) {
                    throw new SimulatorException(Code.BAD_PROFILE, "profile " + what + ": " + e.getMessage());
                }
            }
        }
        String name = doc.name == null || doc.name.isBlank() ? "emulated-npu" : doc.name;
        return new DeviceProfile(name, mode, state, faults, yaml);
    }

    @JsonIgnoreProperties(value = {"description"})
    private static final class Doc {
        @JsonProperty
        String name;

        @JsonProperty
        String requant;

        @JsonProperty("recurrent_state")
        String recurrentState;

        @JsonProperty
        List<FaultDoc> faults;
    }

    private static final class FaultDoc {
        @JsonProperty
        String kind;

        @JsonProperty
        String layer;

        @JsonProperty
        String op;
    }
}
