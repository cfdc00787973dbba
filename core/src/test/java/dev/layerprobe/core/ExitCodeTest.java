package dev.layerprobe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;

class ExitCodeTest {
    @Test
    void sharedFailuresMapByKind() {
        assertEquals(ExitCode.DEVICE, ExitCode.of(new LayerProbeException(LayerProbeException.Code.RUNTIME, "no ORT")));
        assertEquals(
                ExitCode.BAD_INPUT,
                ExitCode.of(new LayerProbeException(LayerProbeException.Code.BAD_PROFILE, "bad profile")));
        assertEquals(ExitCode.BAD_INPUT, ExitCode.of(new NoSuchFileException("/no/dir")));
        assertEquals(ExitCode.INTERNAL, ExitCode.of(new IOException("Failed to bind")));
        assertEquals(ExitCode.INTERNAL, ExitCode.of(new IllegalStateException()));
    }
}
