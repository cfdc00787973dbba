package dev.layerprobe.agent.access;

import dev.layerprobe.agent.service.StatusMapper;
import dev.layerprobe.core.io.Sha256;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Admits a call only if its metadata carries {@code authorization: Bearer <token>} with the agent's
 * token (RFC 6750's header, which grpcurl sends with {@code -H}); others are closed with
 * UNAUTHENTICATED before the service sees them. (The agent leaves the health service outside this
 * interceptor, so that probes need no secret.)
 *
 * <p>The comparison is in constant time: both tokens are hashed to SHA-256 first, so neither their
 * content nor their length shows in the time a refusal takes. Thread-safe and immutable.
 */
public final class BearerTokenInterceptor implements ServerInterceptor {
    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final String SCHEME = "bearer ";

    private final byte[] expectedDigest;

    public BearerTokenInterceptor(String token) {
        this.expectedDigest = digest(token);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String value = headers.get(AUTHORIZATION);
        String refusal;
        if (value == null) {
            refusal = "this agent needs a bearer token: pass --token-file (grpcurl: -H 'authorization: Bearer TOKEN')";
        } else if (!value.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            refusal = "the authorization header must be 'Bearer TOKEN'";
        } else if (!MessageDigest.isEqual(
                expectedDigest, digest(value.substring(SCHEME.length()).strip()))) {
            refusal = "wrong bearer token";
        } else {
            return next.startCall(call, headers);
        }
        call.close(StatusMapper.toStatus(new AuthenticationException(refusal)), new Metadata());
        return new ServerCall.Listener<>() {};
    }

    private static byte[] digest(String token) {
        return Sha256.newDigest().digest(token.getBytes(StandardCharsets.US_ASCII));
    }
}
