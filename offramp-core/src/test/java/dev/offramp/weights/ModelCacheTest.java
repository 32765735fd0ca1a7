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

    /** A zipped SavedModel unpacks once, through a temporary folder, and an incomplete folder is redone. */
    @Test
    void unpacksAZippedSavedModelOnce() throws IOException {
        Path zip = tmp.resolve("sm.zip");
        try (var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(zip))) {
            for (String name : new String[]{"assets/vocab.txt", "assets/model.json", "saved_model.pb",
                    "variables/variables.index", "variables/variables.data-00000-of-00001"}) {
                out.putNextEntry(new java.util.zip.ZipEntry(name));
                out.write(("contents of " + name).getBytes());
                out.closeEntry();
            }
        }
        Path dir = tmp.resolve("models").resolve("tiny-bert");
        java.util.List<long[]> calls = new java.util.ArrayList<>();
        ModelRegistry.unpackSavedModel(zip.toUri().toURL(), dir, "tiny-bert", (what, done, total) -> calls.add(new long[]{done, total}));
        assertEquals("contents of variables/variables.index", Files.readString(dir.resolve("variables/variables.index")));
        assertEquals("contents of assets/model.json", Files.readString(dir.resolve("assets/model.json")));
        assertFalse(calls.isEmpty(), "progress reported");
        assertEquals(Files.size(zip), calls.getLast()[0], "the last report is the whole zip");
        assertEquals(calls.getLast()[0], calls.getLast()[1]);
        try (Stream<Path> files = Files.list(dir.getParent())) {
            assertEquals(1, files.count(), "no temporary folder left behind");
        }

        long modified = Files.getLastModifiedTime(dir.resolve("saved_model.pb")).toMillis();
        calls.clear();
        ModelRegistry.unpackSavedModel(zip.toUri().toURL(), dir, "tiny-bert", (what, done, total) -> calls.add(new long[]{done}));
        assertTrue(calls.isEmpty(), "a complete folder is not unpacked again");
        assertEquals(modified, Files.getLastModifiedTime(dir.resolve("saved_model.pb")).toMillis());

        Files.delete(dir.resolve("assets/vocab.txt")); // damaged by hand
        ModelRegistry.unpackSavedModel(zip.toUri().toURL(), dir, "tiny-bert", UnpackProgress.NONE);
        assertTrue(Files.exists(dir.resolve("assets/vocab.txt")), "an incomplete folder is unpacked again");

        Path notAModel = tmp.resolve("other.zip");
        try (var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(notAModel))) {
            out.putNextEntry(new java.util.zip.ZipEntry("readme.txt"));
            out.closeEntry();
        }
        Path other = tmp.resolve("models").resolve("other");
        var e = assertThrows(java.io.UncheckedIOException.class,
                () -> ModelRegistry.unpackSavedModel(notAModel.toUri().toURL(), other, "other", UnpackProgress.NONE));
        assertTrue(e.getMessage().contains("holds no SavedModel"), e.getMessage());
        assertFalse(Files.exists(other), "nothing under the real name after a failure");
    }
}
