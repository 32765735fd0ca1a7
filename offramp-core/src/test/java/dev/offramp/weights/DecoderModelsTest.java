package dev.offramp.weights;

import dev.offramp.data.DataPaths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class DecoderModelsTest {
    @Test
    void demoLmResolvesUnderTheRepositoryRootAndPathsPassThrough(@TempDir Path root) throws Exception {
        Path demo = Files.createDirectories(root.resolve(DecoderModels.DEMO_LM_DIR));
        Files.writeString(demo.resolve(DecoderFolderLoader.CONFIG), "{}");
        String before = System.getProperty(DataPaths.ROOT_PROPERTY);
        System.setProperty(DataPaths.ROOT_PROPERTY, root.toString());
        try {
            assertEquals(demo.normalize(), DecoderModels.folder(DecoderModels.DEMO_LM));
        } finally {
            if (before == null) System.clearProperty(DataPaths.ROOT_PROPERTY);
            else System.setProperty(DataPaths.ROOT_PROPERTY, before);
        }
        assertEquals(root, DecoderModels.folder(root.toString()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DecoderModels.folder(root.resolve("nope").toString()));
        assertTrue(e.getMessage().contains("no decoder folder at " + root.resolve("nope")), e.getMessage());
        assertTrue(e.getMessage().contains("demo-lm"), "the message names the known name: " + e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DecoderModels.folder(" "));
    }
}
