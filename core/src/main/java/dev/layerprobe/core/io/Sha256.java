package dev.layerprobe.core.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 as LayerProbe uses it everywhere: model ids, layer checksums on the wire and in dump
 * manifests, and calibration-cache keys are lowercase hex digests. Stateless; each
 * {@link MessageDigest} it returns belongs to one thread.
 */
public final class Sha256 {
    private Sha256() {}

    /** A fresh digest; every JDK has SHA-256, so its absence is a broken runtime, not an error to handle. */
    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    /** Completes the digest and returns it as lowercase hex. */
    public static String hex(MessageDigest digest) {
        return HexFormat.of().formatHex(digest.digest());
    }

    /** The lowercase hex SHA-256 of {@code bytes}. */
    public static String hexOf(byte[] bytes) {
        MessageDigest d = newDigest();
        d.update(bytes);
        return hex(d);
    }

    /** The lowercase hex SHA-256 of the bytes {@code in} gives from its position to its end; does not close it. */
    public static String hexOf(InputStream in) throws IOException {
        MessageDigest d = newDigest();
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) {
            d.update(buf, 0, n);
        }
        return hex(d);
    }

    /** The lowercase hex SHA-256 of a file's bytes. */
    public static String hexOf(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return hexOf(in);
        }
    }
}
