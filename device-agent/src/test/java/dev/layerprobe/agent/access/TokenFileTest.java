package dev.layerprobe.agent.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenFileTest {
    @TempDir
    Path dir;

    /** A token file with mode 600, as users are told to make it. */
    static Path privateFile(Path dir, String name, String content) throws Exception {
        Path f = Files.writeString(dir.resolve(name), content);
        if (Files.getFileAttributeView(f, java.nio.file.attribute.PosixFileAttributeView.class) != null) {
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        }
        return f;
    }

    @Test
    void readsTheTrimmedToken() throws Exception {
        assertEquals("0123456789abcdef0123", TokenFile.read(privateFile(dir, "t", "  0123456789abcdef0123\n")));
    }

    @Test
    void refusesFilesOthersCanRead() throws Exception {
        Path f = privateFile(dir, "t", "0123456789abcdef0123\n");
        Assumptions.assumeTrue(
                Files.getFileAttributeView(f, java.nio.file.attribute.PosixFileAttributeView.class) != null,
                "no POSIX permissions on this file system");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));

        String m = assertThrows(TokenFile.InvalidTokenFileException.class, () -> TokenFile.read(f))
                .getMessage();

        assertTrue(m.contains("chmod 600"), m);
    }

    @Test
    void refusesEmptyShortMultiWordAndMissingTokens() throws Exception {
        assertTrue(message(privateFile(dir, "empty", " \n")).endsWith("is empty"));
        assertTrue(message(privateFile(dir, "short", "abc\n")).contains("fewer than 16"));
        assertTrue(message(privateFile(dir, "words", "0123456789 abcdef0123\n")).contains("printable ASCII"));
        assertTrue(message(dir.resolve("absent")).endsWith("not found"));
    }

    private static String message(Path f) {
        String m = assertThrows(TokenFile.InvalidTokenFileException.class, () -> TokenFile.read(f))
                .getMessage();
        assertTrue(!m.contains("\n"), m);
        return m;
    }
}
