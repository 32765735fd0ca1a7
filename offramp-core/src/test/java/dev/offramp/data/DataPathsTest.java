package dev.offramp.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataPathsTest {

    @Test
    void systemPropertyWinsWhenItExists(@TempDir Path dir) throws IOException {
        Path shared = Files.createDirectories(dir.resolve("myshared"));
        String old = System.getProperty(DataPaths.SHARED_PROPERTY);
        try {
            System.setProperty(DataPaths.SHARED_PROPERTY, shared.toString());
            assertEquals(shared.toAbsolutePath().normalize(), DataPaths.shared());
            assertEquals(shared.resolve("data").resolve("glue").toAbsolutePath().normalize(), DataPaths.glue());
        } finally {
            if (old == null) {
                System.clearProperty(DataPaths.SHARED_PROPERTY);
            } else {
                System.setProperty(DataPaths.SHARED_PROPERTY, old);
            }
        }
    }

    @Test
    void theSharedGlueFolderIsFound() {
        assertTrue(Files.isDirectory(DataPaths.glue().resolve("SST-2")), DataPaths.glue().toString());
    }
}
