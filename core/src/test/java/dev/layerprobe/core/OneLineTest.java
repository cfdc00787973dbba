package dev.layerprobe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
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
}
