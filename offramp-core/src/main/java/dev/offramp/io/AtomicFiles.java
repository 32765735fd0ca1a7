package dev.offramp.io;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a file whole or not at all: the contents go to a temporary sibling ({@link SiblingTempFiles}, so the saved
 * file gets the ordinary permissions) that is then renamed over the target. A reader, or a run that fails while
 * saving, never sees half a file under the target's name, and a failed write leaves no temporary behind.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** The temporary sibling's suffix. */
    public static final String SUFFIX = ".tmp";

    /**
     * Deletes the temporaries of earlier writes of {@code target} that a killed process left; for a file one process
     * owns ({@link SiblingTempFiles#deleteLeftovers}).
     */
    public static int deleteLeftovers(Path target) throws IOException {
        return SiblingTempFiles.deleteLeftovers(target, SUFFIX);
    }

    /** The contents of a file, written to the path given: an empty file that already exists. */
    @FunctionalInterface
    public interface Contents {
        void writeTo(Path tmp) throws IOException;
    }

    /**
     * Writes {@code target} (whose folder must exist) through a temporary sibling, then renames the sibling into
     * place, replacing any file there. If writing or renaming throws, the temporary is deleted and that exception
     * propagates (a failure to delete is attached to it as suppressed); the target is left as it was.
     */
    public static void write(Path target, Contents contents) throws IOException {
        Path tmp = SiblingTempFiles.create(target, SUFFIX);
        try {
            contents.writeTo(tmp);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                // a file system that cannot rename atomically: the plain move may leave no file under the target's
                // name for a moment, but never a partial one
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (Throwable t) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException | RuntimeException e) {
                t.addSuppressed(e);
            }
            throw t;
        }
    }
}
