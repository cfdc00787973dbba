package dev.layerprobe.agent.store;

import dev.layerprobe.core.io.AtomicFiles;
import dev.layerprobe.core.io.Sha256;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Uploaded models, content-addressed: a model's id is the lowercase hex sha256 of its bytes, so
 * storing the same bytes twice is a no-op. Models are kept in memory and, when a directory is
 * given, also written there as {@code <id>.model} so that they survive an agent restart.
 *
 * <p>Thread-safe. Stored arrays are shared, never copied: callers must not modify them.
 */
public final class ModelStore {
    private static final Pattern ID = Pattern.compile("[0-9a-f]{64}");

    private final Map<String, byte[]> models = new ConcurrentHashMap<>();
    private final Path dir;

    /** A store in memory only. */
    public ModelStore() {
        this.dir = null;
    }

    /** A store that also persists models in {@code dir} (created if missing). */
    public ModelStore(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    /** Whether {@code id} looks like a model id (64 lowercase hex digits). */
    public static boolean isModelId(String id) {
        return id != null && ID.matcher(id).matches();
    }

    /** The id of these bytes. */
    public static String idOf(byte[] bytes) {
        return Sha256.hexOf(bytes);
    }

    /**
     * Stores a model under its id, which the caller has computed from {@code bytes} (the upload
     * hashes while receiving, so hashing again here would double the cost for large models).
     *
     * @return true if the model was new, false if it was already present
     */
    public boolean put(String id, byte[] bytes) throws IOException {
        requireId(id);
        if (contains(id)) {
            return false;
        }
        if (dir != null) {
            // Written to a temporary name and moved, so a crash never leaves a truncated model
            // under a valid id.
            AtomicFiles.write(file(id), bytes);
        }
        return models.putIfAbsent(id, bytes) == null;
    }

    /** The model's bytes, from memory or from the store's directory. */
    public Optional<byte[]> get(String id) throws IOException {
        if (!isModelId(id)) {
            return Optional.empty();
        }
        byte[] bytes = models.get(id);
        if (bytes == null && dir != null) {
            try {
                byte[] read = Files.readAllBytes(file(id));
                bytes = models.computeIfAbsent(id, k -> read);
            } catch (NoSuchFileException e) {
                return Optional.empty();
            }
        }
        return Optional.ofNullable(bytes);
    }

    public boolean contains(String id) {
        return isModelId(id) && (models.containsKey(id) || (dir != null && Files.isRegularFile(file(id))));
    }

    private Path file(String id) {
        return dir.resolve(id + ".model");
    }

    private static void requireId(String id) {
        if (!isModelId(id)) {
            throw new IllegalArgumentException("'" + id + "' is not a model id (64 lowercase hex digits)");
        }
    }
}
