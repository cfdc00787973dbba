package dev.layerprobe.agent;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 as the protocol uses it: model ids and layer checksums are lowercase hex digests.
 * Stateless; each {@link MessageDigest} it returns belongs to one thread.
 */
public final class Sha256 {
    private Sha256() {
    }

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
}
