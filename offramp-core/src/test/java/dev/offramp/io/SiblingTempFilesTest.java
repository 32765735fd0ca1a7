package dev.offramp.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class SiblingTempFilesTest {
    @TempDir
    Path tmp;

    @Test
    void createsAFreshEmptyFileBesideTheTarget() throws IOException {
        Path target = tmp.resolve("sub").resolve("model.safetensors");
        Files.createDirectories(target.getParent());
        Set<Path> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            Path t = SiblingTempFiles.create(target, ".tmp");
            assertEquals(target.getParent().toAbsolutePath(), t.getParent());
            String name = t.getFileName().toString();
            assertTrue(name.startsWith("model.safetensors") && name.endsWith(".tmp") && name.length() > 21, name);
            assertEquals(0, Files.size(t));
            assertTrue(seen.add(t), "each call a new file: " + t);
        }
        assertFalse(Files.exists(target));
    }

    @Test
    void leftoversOfKilledSavesAreDeletedAndNothingElse() throws IOException {
        Path target = tmp.resolve("joint-checkpoint.bin");
        Files.writeString(target, "the checkpoint");
        Path a = SiblingTempFiles.create(target, ".tmp"), b = SiblingTempFiles.create(target, ".tmp");
        Path[] keep = {Files.writeString(tmp.resolve("joint-checkpoint.binX.tmp"), "not ours"),
                Files.writeString(tmp.resolve("joint-checkpoint.bin.tmp"), "not ours either"),
                Files.writeString(tmp.resolve("other.bin123.tmp"), "another target's"),
                SiblingTempFiles.create(target, ".part")};
        assertEquals(2, SiblingTempFiles.deleteLeftovers(target, ".tmp"));
        assertFalse(Files.exists(a) || Files.exists(b));
        assertEquals("the checkpoint", Files.readString(target));
        for (Path k : keep) assertTrue(Files.exists(k), k + " kept");
        assertEquals(0, SiblingTempFiles.deleteLeftovers(target, ".tmp"));
        assertEquals(0, SiblingTempFiles.deleteLeftovers(tmp.resolve("missing-folder").resolve("x.bin"), ".tmp"));
    }

    @Test
    void hasThePermissionsOfAnOrdinaryNewFile() throws IOException {
        assumeTrue(tmp.getFileSystem().supportedFileAttributeViews().contains("posix"), "needs a POSIX file system");
        Path ordinary = Files.write(tmp.resolve("ordinary"), new byte[0]);
        Path t = SiblingTempFiles.create(tmp.resolve("tokenizer.json"), ".tmp");
        // Files.write's 0666 less the umask (0644 under 022), not createTempFile's 0600
        assertEquals(Files.getPosixFilePermissions(ordinary), Files.getPosixFilePermissions(t));
    }

    @Test
    void createsAFreshEmptyFolderBesideTheTarget() throws IOException {
        Path target = tmp.resolve("bert-base-uncased");
        Path a = SiblingTempFiles.createDirectory(target, ".part"), b = SiblingTempFiles.createDirectory(target, ".part");
        assertNotEquals(a, b);
        for (Path d : new Path[]{a, b}) {
            assertEquals(tmp.toAbsolutePath(), d.getParent());
            String name = d.getFileName().toString();
            assertTrue(name.startsWith("bert-base-uncased") && name.endsWith(".part"), name);
            assertTrue(Files.isDirectory(d));
            try (var entries = Files.list(d)) {
                assertEquals(0, entries.count());
            }
        }
        assertFalse(Files.exists(target));
    }

    @Test
    void aFolderHasThePermissionsOfAnOrdinaryNewFolder() throws IOException {
        assumeTrue(tmp.getFileSystem().supportedFileAttributeViews().contains("posix"), "needs a POSIX file system");
        Path ordinary = Files.createDirectory(tmp.resolve("ordinary"));
        Path d = SiblingTempFiles.createDirectory(tmp.resolve("model"), ".part");
        // createDirectory's 0777 less the umask (0755 under 022), not createTempDirectory's 0700
        assertEquals(Files.getPosixFilePermissions(ordinary), Files.getPosixFilePermissions(d));
    }
}
