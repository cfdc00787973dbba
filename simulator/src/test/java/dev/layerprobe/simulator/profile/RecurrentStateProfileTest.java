package dev.layerprobe.simulator.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.simulator.SimulatorException;
import org.junit.jupiter.api.Test;

/** The profile key {@code recurrent_state}: its default, its two values, a bad value in one line. */
class RecurrentStateProfileTest {
    @Test
    void int16ByDefaultAndInt8WhenAsked() throws Exception {
        assertEquals(RecurrentState.INT16, DeviceProfile.DEFAULT.recurrentState());
        assertEquals(RecurrentState.INT16, DeviceProfile.parse("name: a\n", "t").recurrentState());
        DeviceProfile p = DeviceProfile.parse(
                "name: a\nrecurrent_state: int8\nfaults:\n  - kind: drop_bias\n    op: Conv\n", "t");
        assertEquals(RecurrentState.INT8, p.recurrentState());
        assertEquals(7, p.recurrentState().fractionBits());
        assertEquals(RecurrentState.INT8, p.withoutFaults().recurrentState(), "the host simulator keeps the format");
        assertTrue(p.withoutFaults().faults().isEmpty());
        assertEquals(RecurrentState.INT8, p.withRequant(RequantMode.FLOAT).recurrentState());
    }

    @Test
    void anUnknownFormatIsRefusedInOneLine() {
        SimulatorException e = assertThrows(
                SimulatorException.class, () -> DeviceProfile.parse("name: a\nrecurrent_state: int4\n", "p.yaml"));
        assertEquals(Code.BAD_PROFILE, e.code());
        assertEquals("profile p.yaml: recurrent_state 'int4' is not one of [int16, int8]", e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
