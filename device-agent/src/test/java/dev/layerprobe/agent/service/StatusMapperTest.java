package dev.layerprobe.agent.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.LayerProbeException.Code;
import io.grpc.Status;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StatusMapperTest {
    @ParameterizedTest
    @CsvSource({
        "NOT_ONNX, INVALID_ARGUMENT",
        "INVALID_MODEL, INVALID_ARGUMENT",
        "BAD_INPUT, INVALID_ARGUMENT",
        "UNSUPPORTED_OP, UNIMPLEMENTED",
        "UNSUPPORTED_QUANTIZATION, UNIMPLEMENTED",
        "BAD_PROFILE, FAILED_PRECONDITION",
        "IO, INTERNAL",
    })
    void mapsEverySimulatorCode(Code code, Status.Code expected) {
        LayerProbeException e = new LayerProbeException(code, "problem with 'x'");

        Status s = StatusMapper.toStatus(e);

        assertEquals(expected, s.getCode());
        assertEquals("problem with 'x'", s.getDescription());
        assertSame(e, s.getCause());
    }

    @Test
    void descriptionsAreOneLine() {
        Status s = StatusMapper.toStatus(
                new LayerProbeException(Code.UNSUPPORTED_OP, "unsupported ops:\n  Foo (node a)\n  Bar (node b)\n"));

        assertEquals("unsupported ops:; Foo (node a); Bar (node b)", s.getDescription());
    }

    @Test
    void hugeDescriptionsAreCut() {
        Status s = StatusMapper.toStatus(new LayerProbeException(Code.UNSUPPORTED_OP, "x".repeat(10_000)));

        assertEquals(StatusMapper.MAX_DESCRIPTION_CHARS, s.getDescription().length());
    }

    @Test
    void statusExceptionsPassThroughAndOthersAreInternal() {
        Status notFound = Status.NOT_FOUND.withDescription("gone");
        assertSame(notFound, StatusMapper.toStatus(notFound.asException()));
        assertSame(notFound, StatusMapper.toStatus(notFound.asRuntimeException()));

        Status npe = StatusMapper.toStatus(new NullPointerException("boom"));
        assertEquals(Status.Code.INTERNAL, npe.getCode());
        assertTrue(npe.getDescription().contains("NullPointerException: boom"), npe.getDescription());

        Status io = StatusMapper.toStatus(new IOException("disk full"));
        assertEquals(Status.Code.INTERNAL, io.getCode());
        assertFalse(io.getDescription().contains("\n"));
        assertEquals(
                Status.Code.UNIMPLEMENTED,
                StatusMapper.toStatus(new UnsupportedOperationException("no")).getCode());
    }
}
