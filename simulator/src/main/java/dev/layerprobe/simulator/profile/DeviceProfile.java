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
import java.util.Set;

/**
 * An emulated device (docs/architecture.md#device-profiles-and-faults): its name, numerics and deliberate faults. Loaded from YAML:
 * <pre>
 * name: my-npu
 * requant: fixed          # or float
 * recurrent_state: int16  # or int8: the hidden state of integer LSTM, GRU and RNN layers
 * dumps: layers           # or outputs_only: the device reports the model's outputs, no layer dumps
 * faults:
 *   - kind: depth_to_space_mode_swap
 *     layer: 123          # an ONNX output tensor name, or
 *     # op: DepthToSpace  # every layer of this op type
 * </pre>
 * Immutable.
 */
public record DeviceProfile(
        String name, RequantMode requant, RecurrentState recurrentState, List<Fault> faults, String yaml, Dumps dumps) {

    /** The default emulated NPU: fixed-point requantization, int16 recurrent state, no faults. */
    public static final DeviceProfile DEFAULT = new DeviceProfile("layerprobe-npu", RequantMode.FIXED, List.of(), "");

    /**
     * What a run of the emulated device reports. Many NPU runtimes return only the model's outputs;
     * such a device is analyzed by running prefixes of the model ({@code analyze --bisect}).
     */
    public enum Dumps {
        /** Every layer's output, as a debugging runtime dumps them. */
        LAYERS,
        /** Only the model's outputs: no layer dumps. */
        OUTPUTS_ONLY;

        /** The name used in profiles. */
        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public DeviceProfile {
        faults = List.copyOf(faults);
        dumps = dumps == null ? Dumps.LAYERS : dumps;
    }

    /** A profile that dumps every layer. */
    public DeviceProfile(
            String name, RequantMode requant, RecurrentState recurrentState, List<Fault> faults, String yaml) {
        this(name, requant, recurrentState, faults, yaml, Dumps.LAYERS);
    }

    /** A profile with the default recurrent state (int16) that dumps every layer. */
    public DeviceProfile(String name, RequantMode requant, List<Fault> faults, String yaml) {
        this(name, requant, RecurrentState.INT16, faults, yaml);
    }

    public DeviceProfile withRequant(RequantMode mode) {
        return new DeviceProfile(name, mode, recurrentState, faults, yaml, dumps);
    }

    /** The same device without its faults: what the host simulator computes for it. */
    public DeviceProfile withoutFaults() {
        return new DeviceProfile(name, requant, recurrentState, List.of(), "", dumps);
    }

    /**
     * The faults this device shows on one model: those placed on an op type, and those placed on a
     * layer the model computes ({@code values}: its node outputs). A model without the faulty layer,
     * the prefix of a model that stops before it for one, runs as a device with that bug runs it:
     * correctly.
     */
    public DeviceProfile forModel(Set<String> values) {
        List<Fault> apply = faults.stream()
                .filter(f -> f.layer() == null || values.contains(f.layer()))
                .toList();
        return apply.size() == faults.size()
                ? this
                : new DeviceProfile(name, requant, recurrentState, apply, yaml, dumps);
    }

    /** The same device reporting {@code d}. */
    public DeviceProfile withDumps(Dumps d) {
        return new DeviceProfile(name, requant, recurrentState, faults, yaml, d);
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
        Dumps dumps = Dumps.LAYERS;
        if (doc.dumps != null) {
            dumps = Arrays.stream(Dumps.values())
                    .filter(d -> d.yamlName().equals(doc.dumps))
                    .findFirst()
                    .orElseThrow(() -> new SimulatorException(
                            Code.BAD_PROFILE,
                            "profile " + what + ": dumps '" + doc.dumps + "' is not one of [layers, outputs_only]"));
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
        return new DeviceProfile(name, mode, state, faults, yaml, dumps);
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
        String dumps;

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
