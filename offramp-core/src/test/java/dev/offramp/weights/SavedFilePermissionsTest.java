package dev.offramp.weights;

import dev.offramp.tokenizer.bpe.BpeTokenizerWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Files written through a temporary file and renamed into place are as readable as any file the user writes
 * (Files.createTempFile's own files are 0600). Each is compared with a file Files.write creates in the same folder,
 * so the expectation follows the umask: 0644 under the usual 022.
 */
class SavedFilePermissionsTest {
    @TempDir
    Path tmp;

    /** The permissions Files.write gives a new file in {@code dir}. */
    private static Set<PosixFilePermission> ordinary(Path dir) throws IOException {
        Path reference = Files.write(dir.resolve("reference.txt"), new byte[]{1});
        Set<PosixFilePermission> p = Files.getPosixFilePermissions(reference);
        Files.delete(reference);
        return p;
    }

    private static void assertOrdinary(Set<PosixFilePermission> expected, Path file) throws IOException {
        assertEquals(PosixFilePermissions.toString(expected), PosixFilePermissions.toString(Files.getPosixFilePermissions(file)),
                file.getFileName().toString());
    }

    @Test
    void aSavedModelFolderIsAsReadableAsAnyFileTheUserWrites() throws IOException {
        assumeTrue(tmp.getFileSystem().supportedFileAttributeViews().contains("posix"), "needs a POSIX file system");
        // a train-lm folder: the tokenizer is written by BpeTokenizerWriter, then copied in beside the weights
        Path tokenizer = tmp.resolve("train").resolve("tokenizer.json");
        Files.createDirectories(tokenizer.getParent());
        BpeTokenizerWriter.write(tokenizer, List.of("a", "b", "ab"), List.<String[]>of(new String[]{"a", "b"}),
                List.of("<s>"), BpeTokenizerWriter.Style.LLAMA3);
        assertOrdinary(ordinary(tokenizer.getParent()), tokenizer);

        PretrainedDecoder m = DecoderFolderLoader.load(DecoderFolderTest.golden("tiny-llama"));
        Path dir = tmp.resolve("model");
        DecoderFolderWriter.write(m.weights(), tokenizer, dir, SafetensorsWriter.Dtype.F16, 1);
        Set<PosixFilePermission> expected = ordinary(dir);
        for (String f : List.of("model.safetensors", "config.json", "tokenizer.json")) assertOrdinary(expected, dir.resolve(f));
    }

    /**
     * The unpacked SavedModel folder was created with a fixed rwxr-xr-x, which the umask 022 of most machines cannot
     * tell from the umask's own mode; under umask 002 (the folder should be rwxrwxr-x) this test failed.
     */
    @Test
    void anUnpackedSavedModelIsAsReadableAsAnyFolderTheUserMakes() throws IOException {
        assumeTrue(tmp.getFileSystem().supportedFileAttributeViews().contains("posix"), "needs a POSIX file system");
        Path zip = tmp.resolve("saved-model.zip");
        try (var out = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (String name : List.of("saved_model.pb", "variables/variables.index", "assets/vocab.txt")) {
                out.putNextEntry(new ZipEntry(name));
                out.write(name.getBytes());
                out.closeEntry();
            }
        }
        Path models = Files.createDirectory(tmp.resolve("models"));
        Path dir = models.resolve("tiny-bert");
        ModelRegistry.unpackSavedModel(zip.toUri().toURL(), dir, "tiny-bert", UnpackProgress.NONE);
        Path folder = Files.createDirectory(models.resolve("reference"));
        assertOrdinary(Files.getPosixFilePermissions(folder), dir);
        assertOrdinary(Files.getPosixFilePermissions(folder), dir.resolve("variables"));
        assertOrdinary(ordinary(dir), dir.resolve("saved_model.pb"));
    }

    @Test
    void anExtractedModelIsAsReadableAsAnyFileTheUserWrites() throws IOException {
        assumeTrue(tmp.getFileSystem().supportedFileAttributeViews().contains("posix"), "needs a POSIX file system");
        Path extracted = ModelRegistry.extract("all-minilm-l6-v2-tokenizer.json", tmp);
        assertOrdinary(ordinary(tmp), extracted);
    }
}
