package dev.layerprobe.agent.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelStoreTest {
    private static final byte[] MODEL = {1, 2, 3, 4};
    private static final String ID = ModelStore.idOf(MODEL);

    @Test
    void storesOnceByContent() throws Exception {
        ModelStore store = new ModelStore();

        assertTrue(store.put(ID, MODEL));
        assertFalse(store.put(ID, MODEL.clone()));
        assertArrayEquals(MODEL, store.get(ID).orElseThrow());
        assertEquals(Optional.empty(), store.get(ModelStore.idOf(new byte[] {9})));
    }

    @Test
    void aDirectoryKeepsModelsAcrossInstances(@TempDir Path dir) throws Exception {
        new ModelStore(dir).put(ID, MODEL);

        ModelStore reopened = new ModelStore(dir);

        assertTrue(reopened.contains(ID));
        assertArrayEquals(MODEL, reopened.get(ID).orElseThrow());
        assertFalse(reopened.put(ID, MODEL));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary files are left behind");
        }
    }

    @Test
    void idsAreLowercaseSha256Hex() {
        assertEquals("9f64a747e1b97f131fabb6b447296c9b6f0201e79fb3c5356e6c77e89b6a806a", ID);
        assertTrue(ModelStore.isModelId(ID));
        assertFalse(ModelStore.isModelId(ID.toUpperCase(java.util.Locale.ROOT)));
        assertFalse(ModelStore.isModelId("../../etc/passwd"));
        assertThrows(IllegalArgumentException.class, () -> new ModelStore().put("abc", MODEL));
    }
}
