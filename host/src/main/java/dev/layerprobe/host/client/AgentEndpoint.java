package dev.layerprobe.host.client;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How to reach a running agent: its {@code HOST:PORT} address and, optionally, the file holding
 * the bearer token its calls carry and the CA certificate that signed its TLS certificate (given
 * a CA, the connection uses TLS; otherwise plaintext, as over an SSH tunnel). Holds file paths,
 * never the token itself, so printing an endpoint prints no secret. Immutable.
 *
 * @param address   {@code HOST:PORT}, IPv6 hosts in brackets
 * @param tokenFile the bearer token file (one line, mode 600), or null
 * @param tlsCa     PEM certificate(s) to trust for the agent's TLS certificate, or null for plaintext
 */
public record AgentEndpoint(String address, Path tokenFile, Path tlsCa) {
    public AgentEndpoint {
        Objects.requireNonNull(address, "address");
    }

    /** A plaintext endpoint without a token. */
    public static AgentEndpoint of(String address) {
        return new AgentEndpoint(address, null, null);
    }
}
