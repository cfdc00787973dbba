package dev.layerprobe.agent.access;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * The bearer token file that the agent ({@code --token-file}) and the host ({@code --token-file})
 * share. The file holds the token on one line; surrounding whitespace (a trailing newline) is
 * trimmed. Refused, with a one-line reason:
 * <ul>
 *   <li>a file that group or others may read or write (on file systems with POSIX permissions),
 *       as ssh refuses such private keys: {@code chmod 600 FILE};</li>
 *   <li>an empty token, one shorter than {@value #MIN_LENGTH} characters, or one with characters
 *       other than printable ASCII without spaces (it travels in an HTTP/2 header).</li>
 * </ul>
 * Stateless.
 */
public final class TokenFile {
    /** Short enough for {@code openssl rand -hex 16}, long enough that guessing is hopeless. */
    public static final int MIN_LENGTH = 16;
    /** A token is a secret, not a document; a bigger file is the wrong file. */
    static final long MAX_FILE_BYTES = 4096;

    private static final Set<PosixFilePermission> OPEN = EnumSet.of(
            PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE);

    /** A token file that cannot be used; the message says why and how to fix it. */
    public static final class InvalidTokenFileException extends Exception {
        InvalidTokenFileException(String message) {
            super(message);
        }
    }

    private TokenFile() {}

    /** Reads, checks and trims the token in {@code file}. */
    public static String read(Path file) throws InvalidTokenFileException {
        String text;
        try {
            PosixFileAttributeView posix = Files.getFileAttributeView(file, PosixFileAttributeView.class);
            if (posix != null) {
                Set<PosixFilePermission> perms = posix.readAttributes().permissions();
                perms.retainAll(OPEN);
                if (!perms.isEmpty()) {
                    throw new InvalidTokenFileException("token file " + file + " is accessible by group or others "
                            + "(" + perms + "); restrict it with: chmod 600 " + file);
                }
            }
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new InvalidTokenFileException("token file " + file + " is larger than " + MAX_FILE_BYTES
                        + " bytes; it must hold only the token");
            }
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new InvalidTokenFileException("token file " + file + " not found");
        } catch (IOException e) {
            throw new InvalidTokenFileException("cannot read token file " + file + ": " + e.getMessage());
        }
        String token = text.strip();
        if (token.isEmpty()) {
            throw new InvalidTokenFileException("token file " + file + " is empty");
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c <= ' ' || c > '~') {
                throw new InvalidTokenFileException("token file " + file + " holds a character other than printable"
                        + " ASCII at position " + i + "; the token must be one word, e.g. from: openssl rand -hex 32");
            }
        }
        if (token.length() < MIN_LENGTH) {
            throw new InvalidTokenFileException("the token in " + file + " has " + token.length() + " characters, fewer"
                    + " than " + MIN_LENGTH + "; make one with: openssl rand -hex 32");
        }
        return token;
    }
}
