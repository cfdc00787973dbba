package dev.layerprobe.simulator.profile;

import java.util.Locale;

/**
 * The fixed-point format in which the emulated NPU keeps the hidden state h of its integer LSTM,
 * GRU and RNN layers (profile key {@code recurrent_state}); the conventions it is part of are stated
 * in {@code kernels.quantized.QRecurrent}.
 * <ul>
 *   <li>{@code INT16} (the default): Q0.15, {@code h = code * 2^-15};</li>
 *   <li>{@code INT8}: Q0.7, {@code h = code * 2^-7}, what an NPU with 8-bit state buffers keeps.</li>
 * </ul>
 */
public enum RecurrentState {
    INT16(15),
    INT8(7);

    private final int fractionBits;

    RecurrentState(int fractionBits) {
        this.fractionBits = fractionBits;
    }

    /** Fraction bits of the state's codes: {@code h = code * 2^-fractionBits}. */
    public int fractionBits() {
        return fractionBits;
    }

    /** The name used in profiles. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
