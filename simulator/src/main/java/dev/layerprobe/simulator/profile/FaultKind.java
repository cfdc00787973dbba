package dev.layerprobe.simulator.profile;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Deliberate device bugs an emulated device can carry (DESIGN §7), by their YAML names. */
public enum FaultKind {
    /** DepthToSpace computed with the other mode: CRD read as DCR and vice versa. */
    DEPTH_TO_SPACE_MODE_SWAP("DepthToSpace");

    private final String[] ops;

    FaultKind(String... ops) {
        this.ops = ops;
    }

    /** The name used in profiles and on the wire. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The op types this fault can apply to. */
    public String[] ops() {
        return ops.clone();
    }

    public boolean appliesTo(String opType) {
        return Arrays.asList(ops).contains(opType);
    }

    public static FaultKind parse(String s) {
        for (FaultKind k : values()) {
            if (k.yamlName().equals(s)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown fault kind '" + s + "', expected one of " + names());
    }

    public static String names() {
        return Arrays.stream(values()).map(FaultKind::yamlName).collect(Collectors.joining(", ", "[", "]"));
    }
}
