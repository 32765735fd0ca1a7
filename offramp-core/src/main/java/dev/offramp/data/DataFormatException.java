package dev.offramp.data;

import java.nio.file.Path;

/**
 * A data file whose content does not match its expected layout: wrong column count, a label that does
 * not parse, an unknown label string, bytes that are not UTF-8. The message always names the file, the
 * 1-based line number (0 when the problem concerns the whole file) and the problem.
 *
 * <p>Loaders never drop a bad row silently: a silently shorter dev set would change every reported number.
 */
public final class DataFormatException extends RuntimeException {

    private final Path file;
    private final int line;

    public DataFormatException(Path file, int line, String problem) {
        super(file + (line > 0 ? ":" + line : "") + ": " + problem);
        this.file = file;
        this.line = line;
    }

    /** The file that failed to parse. */
    public Path file() {
        return file;
    }

    /** 1-based line number of the offending row; 0 when the problem concerns the whole file. */
    public int line() {
        return line;
    }
}
