package dev.offramp.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class AtomicFilesTest {
    @TempDir
    Path tmp;

    private List<String> folder() throws IOException {
        try (Stream<Path> files = Files.list(tmp)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Bytes that differ from one call to the next, so an assertion cannot pass on a leftover. */
    private static byte[] contents(String what) {
        return (what + " " + System.nanoTime() + "\n").repeat(1000).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void theTargetAppearsWholeOnlyOnceWritten() throws IOException {
        Path target = tmp.resolve("model.safetensors");
        byte[] written = contents("new");
        AtomicFiles.write(target, t -> {
            assertEquals(tmp.toAbsolutePath(), t.getParent(), "a sibling of the target");
            assertTrue(Files.exists(t) && Files.size(t) == 0, "handed an existing empty file");
            Files.write(t, written, java.nio.file.StandardOpenOption.WRITE);
            assertFalse(Files.exists(target), "the target only appears when the write is done");
        });
        assertArrayEquals(written, Files.readAllBytes(target));
        assertEquals(List.of("model.safetensors"), folder(), "no temporary left");
    }

    @Test
    void replacesAnExistingTarget() throws IOException {
        Path target = tmp.resolve("config.json");
        byte[] old = contents("old"), written = contents("new");
        Files.write(target, old);
        AtomicFiles.write(target, t -> {
            Files.write(t, written);
            assertArrayEquals(old, Files.readAllBytes(target), "readers see the old file while the new one is written");
        });
        assertArrayEquals(written, Files.readAllBytes(target));
        assertEquals(List.of("config.json"), folder());
    }

    @Test
    void aFailedWriteLeavesAnExistingTargetAsItWasAndNoTemporary() throws IOException {
        Path target = tmp.resolve("joint-checkpoint.bin");
        byte[] old = contents("old");
        Files.write(target, old);
        IOException thrown = new IOException("disk full");
        IOException caught = assertThrows(IOException.class, () -> AtomicFiles.write(target, t -> {
            Files.write(t, contents("half"));
            throw thrown;
        }));
        assertSame(thrown, caught, "the writer's own exception");
        assertEquals(0, caught.getSuppressed().length);
        assertArrayEquals(old, Files.readAllBytes(target));
        assertEquals(List.of("joint-checkpoint.bin"), folder(), "the temporary is deleted");
    }

    @Test
    void aFailedWriteLeavesAMissingTargetMissing() throws IOException {
        Path target = tmp.resolve("tokens.bin");
        IllegalStateException thrown = new IllegalStateException("vocabulary entry repeated");
        IllegalStateException caught = assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, t -> {
            Files.write(t, contents("half"));
            throw thrown;
        }));
        assertSame(thrown, caught, "unchecked exceptions propagate as they are too");
        assertFalse(Files.exists(target));
        assertEquals(List.of(), folder());
    }

    @Test
    void aFailedRenameLeavesNoTemporary() throws IOException {
        Path target = tmp.resolve("outputs-dev.bin");
        Files.createDirectories(target.resolve("in-the-way")); // a non-empty folder cannot be replaced by a file
        assertThrows(IOException.class, () -> AtomicFiles.write(target, t -> Files.write(t, contents("new"))));
        assertTrue(Files.isDirectory(target.resolve("in-the-way")), "the target is untouched");
        assertEquals(List.of("outputs-dev.bin"), folder());
    }

    @Test
    void aTemporaryThatCannotBeDeletedIsReportedOnTheOriginalException() throws IOException {
        Path target = tmp.resolve("policy-dev.bin");
        IOException thrown = new IOException("write failed");
        Path[] temporary = new Path[1];
        IOException caught = assertThrows(IOException.class, () -> AtomicFiles.write(target, t -> {
            temporary[0] = t;
            Files.delete(t);
            Files.createDirectories(t.resolve("child")); // a non-empty folder where the temporary was: delete fails
            throw thrown;
        }));
        assertSame(thrown, caught);
        assertEquals(1, caught.getSuppressed().length, "the failed delete rides along");
        assertInstanceOf(DirectoryNotEmptyException.class, caught.getSuppressed()[0]);
        assertFalse(Files.exists(target));
        assertTrue(Files.isDirectory(temporary[0]));
    }

    @Test
    void theSavedFileHasThePermissionsOfAnOrdinaryNewFile() throws IOException {
        assumeTrue(tmp.getFileSystem().supportedFileAttributeViews().contains("posix"), "needs a POSIX file system");
        Path ordinary = Files.write(tmp.resolve("ordinary"), new byte[0]);
        Path target = tmp.resolve("tokenizer.json");
        AtomicFiles.write(target, t -> Files.writeString(t, "{}"));
        assertEquals(Files.getPosixFilePermissions(ordinary), Files.getPosixFilePermissions(target));
    }
}
