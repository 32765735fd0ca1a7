package dev.offramp.training;

import dev.offramp.io.AtomicFiles;
import dev.offramp.io.SiblingTempFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class JointCheckpointLeftoversTest {
    @Test
    void resumingDeletesTheHalfWrittenCheckpointsOfAKilledRun(@TempDir Path dir) throws Exception {
        Path leftover = SiblingTempFiles.create(dir.resolve(JointCheckpoint.FILE), AtomicFiles.SUFFIX);
        Files.write(leftover, new byte[1024]);
        Path someoneElses = SiblingTempFiles.create(dir.resolve("model.safetensors"), AtomicFiles.SUFFIX);
        assertNull(JointCheckpoint.loadIfPresent(dir, JointCheckpoint.FILE, List.of()), "no checkpoint yet");
        assertFalse(Files.exists(leftover));
        assertTrue(Files.exists(someoneElses), "only the checkpoint's own temporaries go");
    }
}
