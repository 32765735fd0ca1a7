package dev.offramp.io;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A temporary file beside the file it will replace: written whole, then renamed over the target, so a reader never
 * sees half a file. Unlike {@link Files#createTempFile}, whose files are private (0600 on POSIX, meant for secrets in
 * /tmp), it is created the way {@link Files#newOutputStream} creates a file (0666 less the umask): after the rename it
 * is the saved model, tokenizer or cache file itself, as readable as anything else the user writes.
 */
public final class SiblingTempFiles {
    private SiblingTempFiles() {}

    /**
     * Creates an empty file named {@code <target's name><random number><suffix>} in the target's folder; the name is
     * unique (the file is created exclusively), so concurrent writers of the same target never share one.
     */
    public static Path create(Path target, String suffix) throws IOException {
        return createUnique(target, suffix,
                tmp -> Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close());
    }

    /**
     * Creates an empty folder named like {@link #create}'s files, for a folder that is filled and then renamed into
     * place; made by {@link Files#createDirectory}, so its mode is the ordinary 0777 less the umask, not the 0700 of
     * {@link Files#createTempDirectory}.
     */
    public static Path createDirectory(Path target, String suffix) throws IOException {
        return createUnique(target, suffix, Files::createDirectory);
    }

    /**
     * Deletes the temporary files {@link #create}{@code (target, suffix)} made and nobody renamed: what a process
     * killed while saving leaves behind (unique names mean no later save overwrites it; for a BERT-base training
     * checkpoint that is 1.3 GB each time). Only for a target a single process writes, such as a run's own checkpoint:
     * a concurrent writer's temporary would go too. Returns how many were deleted.
     */
    public static int deleteLeftovers(Path target, String suffix) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) return 0;
        String prefix = target.getFileName().toString();
        int deleted = 0;
        try (var files = Files.newDirectoryStream(dir, prefix + "*" + suffix)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                String middle = name.substring(prefix.length(), name.length() - suffix.length());
                if (middle.isEmpty() || !middle.chars().allMatch(Character::isDigit) || !Files.isRegularFile(f)) continue;
                if (Files.deleteIfExists(f)) deleted++;
            }
        }
        return deleted;
    }

    /** Creates a file or folder; throws FileAlreadyExistsException when the name is taken. */
    private interface Creation {
        void create(Path path) throws IOException;
    }

    private static Path createUnique(Path target, String suffix, Creation creation) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        String prefix = target.getFileName().toString();
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve(prefix + Long.toUnsignedString(ThreadLocalRandom.current().nextLong()) + suffix);
            try {
                creation.create(tmp);
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt == 100) throw e; // 100 collisions of a random 64-bit number: something else is wrong
            }
        }
    }
}
