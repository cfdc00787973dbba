package dev.layerprobe.agent.service;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes that uploads in progress may buffer together. Each upload reserves the size its header
 * announces before it buffers anything and gives it back when it ends, however it ends; an upload
 * that does not fit is refused with RESOURCE_EXHAUSTED, so clients uploading at once cannot make
 * the agent run out of memory even when each stays under the model size limit. Thread-safe.
 */
final class UploadBudget {
    private final long capacity;
    private final AtomicLong used = new AtomicLong();

    UploadBudget(long capacity) {
        this.capacity = capacity;
    }

    /** Reserves {@code bytes} if they fit; returns whether they did. */
    boolean tryReserve(long bytes) {
        while (true) {
            long u = used.get();
            if (bytes > capacity - u) {
                return false;
            }
            if (used.compareAndSet(u, u + bytes)) {
                return true;
            }
        }
    }

    void release(long bytes) {
        used.addAndGet(-bytes);
    }

    long capacity() {
        return capacity;
    }

    /** Bytes reserved now, for tests. */
    long used() {
        return used.get();
    }
}
