package dev.layerprobe.agent.access;

import dev.layerprobe.agent.service.StatusMapper;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Gives every call whose client set no deadline (grpcurl, a script) the agent's default one, so a
 * forgotten upload or an unread run cannot hold memory or a run slot forever. Calls that carry a
 * deadline keep it.
 *
 * <p>gRPC itself only enforces deadlines that came from the client, so when the default one
 * passes, this interceptor cancels the call's context (which the service's run loop watches) and
 * closes the call with DEADLINE_EXCEEDED. Because that close comes from a timer thread while the
 * service may be sending from its own, the call is wrapped so that its methods are serialised and
 * do nothing once it is closed; and since gRPC then tells the handler that the call completed, the
 * handler is told instead that it was cancelled, so it drops what it holds. Thread-safe.
 */
public final class DefaultDeadlineInterceptor implements ServerInterceptor {
    private final Duration deadline;
    private final ScheduledExecutorService timer;

    /** @param timer fires the deadlines; owned by the caller */
    public DefaultDeadlineInterceptor(Duration deadline, ScheduledExecutorService timer) {
        this.deadline = deadline;
        this.timer = timer;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        if (Context.current().getDeadline() != null) {
            return next.startCall(call, headers);
        }
        Context.CancellableContext context =
                Context.current().withDeadline(Deadline.after(deadline.toNanos(), TimeUnit.NANOSECONDS), timer);
        SerializedCall<Q, R> serialized = new SerializedCall<>(call);
        context.addListener(
                c -> {
                    if (c.getDeadline() != null && c.getDeadline().isExpired()) {
                        serialized.expire(
                                StatusMapper.toStatus(new TimeoutException("the call exceeded the agent's default"
                                        + " deadline of " + deadline.toSeconds() + " s; set a deadline on the call")));
                    }
                },
                Runnable::run);
        serialized.whenClosed(() -> context.cancel(null));
        ServerCall.Listener<Q> listener = Contexts.interceptCall(context, serialized, headers, next);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onComplete() {
                // A call the server closes itself ends, for its handler, in onComplete, whatever the
                // status. One ended by the deadline was not complete: its handler (an upload holding
                // buffered bytes) must hear that it was cancelled.
                if (serialized.expired) {
                    super.onCancel();
                } else {
                    super.onComplete();
                }
            }
        };
    }

    /** A call whose methods run one at a time and are ignored after {@link #close}. */
    private static final class SerializedCall<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
        private volatile boolean closed;
        private volatile boolean expired;
        private Runnable onClose = () -> {};

        SerializedCall(ServerCall<Q, R> delegate) {
            super(delegate);
        }

        synchronized void whenClosed(Runnable r) {
            onClose = r;
        }

        /** Closes the call because its deadline passed, unless it is closed already. */
        void expire(Status status) {
            synchronized (this) {
                if (closed) {
                    return;
                }
                expired = true;
            }
            close(status, new Metadata());
        }

        @Override
        public synchronized void sendHeaders(Metadata headers) {
            if (!closed) {
                super.sendHeaders(headers);
            }
        }

        @Override
        public synchronized void sendMessage(R message) {
            if (!closed) {
                super.sendMessage(message);
            }
        }

        @Override
        public synchronized void request(int n) {
            if (!closed) {
                super.request(n);
            }
        }

        @Override
        public void close(Status status, Metadata trailers) {
            Runnable after;
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                super.close(status, trailers);
                after = onClose;
            }
            // Outside the lock: cancelling the context runs its listeners, one of which closes us.
            after.run();
        }

        @Override
        public boolean isReady() {
            return !closed && super.isReady();
        }
    }
}
