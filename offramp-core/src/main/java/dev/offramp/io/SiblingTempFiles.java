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
        Path dir = target.toAbsolutePath().getParent();
        String prefix = target.getFileName().toString();
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve(prefix + Long.toUnsignedString(ThreadLocalRandom.current().nextLong()) + suffix);
            try {
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt == 100) throw e; // 100 collisions of a random 64-bit number: something else is wrong
            }
        }
    }
}
