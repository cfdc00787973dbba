package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.agent.access.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code layerprobe info} and {@code layerprobe agent}'s access rules, through the CLI. */
class InfoCommandTest {
    private static final String TOKEN = "5ecre7-5ecre7-5ecre7-5ecre7";

    @TempDir
    Path dir;

    private Path tokenFile(String name, String token) throws Exception {
        Path f = Files.writeString(dir.resolve(name), token + "\n");
        if (Files.getFileAttributeView(f, PosixFileAttributeView.class) != null) {
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        }
        return f;
    }

    @Test
    void printsTheEmbeddedDevice() {
        CliRun r = CliRun.of("info");

        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("backend       sim"), r.out());
        assertTrue(r.out().contains("capabilities  run, native_dumps, run_layer"), r.out());
        assertTrue(r.out().contains("faults        none"), r.out());
    }

    @Test
    void talksToAnAgentWithTokenAndTls() throws Exception {
        TestCertificates certs = TestCertificates.create(dir);
        Path token = tokenFile("token", TOKEN);
        try (AgentServer agent = AgentServer.netty(AgentConfig.builder()
                        .port(0)
                        .tokenFile(token)
                        .tls(certs.cert(), certs.key())
                        .build())
                .start()) {
            String device = "127.0.0.1:" + agent.port();

            CliRun ok = CliRun.of(
                    "info",
                    "--device",
                    device,
                    "--token-file",
                    token.toString(),
                    "--tls-ca",
                    certs.cert().toString());
            CliRun noToken = CliRun.of(
                    "info", "--device", device, "--tls-ca", certs.cert().toString());
            CliRun wrongToken = CliRun.of(
                    "info",
                    "--device",
                    device,
                    "--tls-ca",
                    certs.cert().toString(),
                    "--token-file",
                    tokenFile("other", "another-token-of-enough-length").toString());
            CliRun plaintext = CliRun.of("info", "--device", device, "--token-file", token.toString());

            assertEquals(0, ok.exit(), ok.err());
            assertTrue(ok.out().contains("agent         " + device), ok.out());
            assertTrue(ok.out().contains("device        " + agent.backend().device()), ok.out());
            assertEquals(ExitCodes.DEVICE, noToken.exit());
            assertTrue(noToken.oneLineError() && noToken.err().contains("needs a bearer token"), noToken.err());
            assertEquals(ExitCodes.DEVICE, wrongToken.exit());
            assertTrue(wrongToken.oneLineError() && wrongToken.err().contains("wrong bearer token"), wrongToken.err());
            assertEquals(ExitCodes.DEVICE, plaintext.exit());
            assertTrue(plaintext.oneLineError(), plaintext.err());
        }
    }

    @Test
    void badCredentialsAreBadInput() throws Exception {
        Path open = Files.writeString(dir.resolve("open"), TOKEN);
        CliRun noDevice = CliRun.of("info", "--token-file", open.toString());
        CliRun missing = CliRun.of(
                "info",
                "--device",
                "127.0.0.1:1",
                "--token-file",
                dir.resolve("nope").toString());
        CliRun badCa = CliRun.of("info", "--device", "127.0.0.1:1", "--tls-ca", open.toString());

        assertEquals(ExitCodes.BAD_INPUT, noDevice.exit());
        assertTrue(noDevice.oneLineError() && noDevice.err().contains("add --device"), noDevice.err());
        assertEquals(ExitCodes.BAD_INPUT, missing.exit());
        assertTrue(missing.oneLineError() && missing.err().contains("not found"), missing.err());
        assertEquals(ExitCodes.BAD_INPUT, badCa.exit());
        assertTrue(badCa.oneLineError() && badCa.err().contains("--tls-ca"), badCa.err());
    }

    @Test
    void theAgentRefusesAnExposedAddressWithoutAToken() {
        CliRun r = CliRun.of("agent", "--bind", "0.0.0.0", "--port", "0");

        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(
                r.err().contains("not a loopback address")
                        && r.err().contains("--token-file")
                        && r.err().contains("--insecure"),
                r.err());
        assertEquals("", r.out());
    }
}
