package dev.layerprobe.agent.bulk;

import java.nio.charset.StandardCharsets;

/**
 * The bulk port's wire format, version 1: what the agent's {@link BulkServer} and the host's bulk
 * client both follow. Integers are big-endian.
 *
 * <ol>
 *   <li>The client opens the connection (TLS when the agent has TLS) with {@link #MAGIC} and a
 *       ticket of {@link #TICKET_BYTES} from {@code OpenBulkPull}, which admits it to one stored run.
 *   <li>Then, per layer it wants: the layer's index ({@code int32}) and the first byte to send
 *       ({@code int64}). Requests may be sent before earlier answers arrive.
 *   <li>The agent answers each request in order with a status byte: gRPC's status code, 0 for OK.
 *       After OK: the number of bytes that follow ({@code int64}, the layer's size minus the offset),
 *       the sha256 of the whole layer as {@link #SHA256_HEX_BYTES} ASCII hex digits, then the bytes
 *       as stored. Otherwise: the description's length ({@code uint16}) and the description in
 *       UTF-8, after which the connection stays usable, except after UNAUTHENTICATED or
 *       INVALID_ARGUMENT (a bad opening or request), when the agent closes it.
 * </ol>
 *
 * Nothing else is sent: the bytes of a layer are neither framed nor copied into messages, so the
 * agent writes them as it reads them from the file and the host reads them as a plain socket copy
 * does. A client cancels by closing the connection. Stateless.
 */
public final class BulkProtocol {
    /** The first four bytes a client sends: "LPB" and the protocol version, '1'. */
    public static final byte[] MAGIC = "LPB1".getBytes(StandardCharsets.US_ASCII);

    /** Bytes of a ticket: 256 random bits. */
    public static final int TICKET_BYTES = 32;

    /** The client's opening: {@link #MAGIC} then the ticket. */
    public static final int HELLO_BYTES = 4 + TICKET_BYTES;

    /** A request: layer index ({@code int32}) and offset ({@code int64}). */
    public static final int REQUEST_BYTES = 4 + 8;

    /** The sha256 in an OK answer, as lowercase hex. */
    public static final int SHA256_HEX_BYTES = 64;

    /** An OK answer before the bytes: status, length, sha256. */
    public static final int OK_HEADER_BYTES = 1 + 8 + SHA256_HEX_BYTES;

    /** The status byte of an OK answer. */
    public static final int OK = 0;

    /** The longest description an error answer carries, in bytes. */
    public static final int MAX_DESCRIPTION_BYTES = 2000;

    private BulkProtocol() {}
}
