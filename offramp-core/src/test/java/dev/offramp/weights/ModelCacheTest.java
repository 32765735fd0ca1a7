package dev.offramp.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Extraction of classpath resources into the model cache. */
class ModelCacheTest {
    @TempDir
    Path tmp;

    @Test
    void extractsOnceAndRepairsAWrongSizedFile() throws IOException {
        String res = "all-minilm-l6-v2-tokenizer.json";
        Path first = ModelRegistry.extract(res, tmp);
        long size = Files.size(first);
        assertTrue(size > 100_000, "tokenizer.json extracted whole: " + size);
        assertTrue(Files.readString(first).contains("\"vocab\""));
        long modified = Files.getLastModifiedTime(first).toMillis();
        assertEquals(first, ModelRegistry.extract(res, tmp));
        assertEquals(modified, Files.getLastModifiedTime(first).toMillis(), "a complete file is not rewritten");

        Files.write(first, new byte[]{'{'}); // a half-written file from some other tool
        ModelRegistry.extract(res, tmp);
        assertEquals(size, Files.size(first), "wrong-sized file replaced");
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(1, files.count(), "no temporary files left behind");
        }
    }

    @Test
    void cacheRootFollowsTheSystemProperty() {
        String old = System.getProperty("offramp.cache");
        try {
            System.setProperty("offramp.cache", tmp.toString());
            assertEquals(tmp.resolve("models"), ModelRegistry.cacheDir());
        } finally {
            if (old == null) System.clearProperty("offramp.cache");
            else System.setProperty("offramp.cache", old);
        }
    }

    @Test
    void missingResourceIsExplained() {
        var e = assertThrows(IllegalStateException.class, () -> ModelRegistry.extract("no-such-model.onnx", tmp));
        assertTrue(e.getMessage().contains("no-such-model.onnx"), e.getMessage());
    }
}
