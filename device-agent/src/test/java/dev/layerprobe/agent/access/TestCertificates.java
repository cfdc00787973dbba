package dev.layerprobe.agent.access;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made with the JDK's own keytool and
 * written as the PEM files the agent takes. The JDK has no public API to create certificates and
 * keytool cannot write a PEM private key, so the key is read back from the PKCS#12 store and
 * written as PKCS#8 PEM here.
 */
public record TestCertificates(Path cert, Path key) {
    private static final char[] PASSWORD = "test-only".toCharArray();

    public static TestCertificates create(Path dir) throws Exception {
        Path store = dir.resolve("agent.p12");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(List.of(
                        keytool.toString(),
                        "-genkeypair",
                        "-alias",
                        "agent",
                        "-keyalg",
                        "EC",
                        "-groupname",
                        "secp256r1",
                        "-dname",
                        "CN=localhost",
                        "-ext",
                        "san=ip:127.0.0.1,dns:localhost",
                        "-validity",
                        "2",
                        "-storetype",
                        "PKCS12",
                        "-keystore",
                        store.toString(),
                        "-storepass",
                        new String(PASSWORD),
                        "-keypass",
                        new String(PASSWORD)))
                .redirectErrorStream(true)
                .start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool failed: " + output);
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, PASSWORD);
        }
        Path cert = Files.writeString(
                dir.resolve("agent.crt"),
                pem("CERTIFICATE", ks.getCertificate("agent").getEncoded()));
        Path key = Files.writeString(
                dir.resolve("agent.key"),
                pem("PRIVATE KEY", ks.getKey("agent", PASSWORD).getEncoded()));
        return new TestCertificates(cert, key);
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
