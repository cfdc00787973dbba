package dev.layerprobe.host.pinned;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.layerprobe.core.io.AtomicFiles;
import dev.layerprobe.host.SharedData;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The pins of {@link PinnedCodesTest}: one JSON object per model (and the demo), read from the
 * test classpath, written (on request only) into the source tree so that the change shows in the
 * next commit.
 */
final class PinFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** One array element per line, so that a regenerated pin shows as a one-line change. */
    private static final DefaultPrettyPrinter PRINTER =
            new DefaultPrettyPrinter().withArrayIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE);

    private PinFile() {}

    static JsonNode read(URL resource) throws IOException {
        if (resource == null) {
            return JSON.createObjectNode();
        }
        try (java.io.InputStream in = resource.openStream()) {
            return JSON.readTree(in);
        }
    }

    /** Replaces the entry {@code key} of the pins in the source tree; returns the file written. */
    static synchronized Path put(String key, ObjectNode entry) throws IOException {
        Path file = SharedData.projectRoot()
                .resolve("host/src/test/resources/dev/layerprobe/host/pinned/integer-codes.json");
        ObjectNode all = Files.exists(file) ? (ObjectNode) JSON.readTree(file.toFile()) : JSON.createObjectNode();
        all.set(key, entry);
        AtomicFiles.writeString(file, JSON.writer(PRINTER).writeValueAsString(all) + "\n");
        return file;
    }
}
