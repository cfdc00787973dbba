package dev.layerprobe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;

class OneLineTest {
    @Test
    void takesTheFirstNonBlankLine() {
        assertEquals("bad shape", OneLine.of("\n  bad shape  \n\tat Foo.bar(Foo.java:1)"));
        assertEquals("", OneLine.of((String) null));
        assertEquals("NullPointerException", OneLine.of(new NullPointerException()));
    }

    @Test
    void rootCauseNamesTheInnermostReason() {
        Exception e = new IllegalStateException("wrapper", new IOException("key.pem: not PKCS#8\nmore"));
        assertEquals("key.pem: not PKCS#8", OneLine.ofRootCause(e));
    }

    @Test
    void theLineForUsersNamesMissingFilesAndIoErrorsAndNeverIsEmpty() {
        assertEquals("file not found: /no/such.yaml", OneLine.forUser(new NoSuchFileException("/no/such.yaml")));
        assertEquals(
                "I/O error: Failed to bind to address /127.0.0.1:50051",
                OneLine.forUser(new IOException("Failed to bind to address /127.0.0.1:50051\n\tat x")));
        assertEquals(
                "--max-runs must be in [1, 1024], got 0",
                OneLine.forUser(new IllegalArgumentException("--max-runs must be in [1, 1024], got 0")));
        assertEquals(
                "internal error: NullPointerException (rerun with --verbose for details)",
                OneLine.forUser(new NullPointerException()));
    }
}
