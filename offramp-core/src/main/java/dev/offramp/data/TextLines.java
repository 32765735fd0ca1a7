package dev.offramp.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a text file as raw lines, decoding strictly: a malformed byte sequence is a
 * {@link DataFormatException} naming the line and the byte offset inside it, never a silent U+FFFD.
 *
 * <p>Lines end at {@code \n}; one trailing {@code \r} per line is removed (some copies use CRLF). A final
 * line without a terminating newline is kept. A UTF-8 byte-order mark at the start of the file is removed.
 * Nothing else is interpreted: quotes are ordinary characters. A file whose name ends in {@code .gz} is gunzipped
 * first.
 */
public final class TextLines {

    private TextLines() {
    }

    /** The lines of a UTF-8 file; element {@code i} is line {@code i + 1}. */
    public static List<String> readUtf8(Path file) {
        return read(file, StandardCharsets.UTF_8);
    }

    /** The lines of a file in the given charset; element {@code i} is line {@code i + 1}. */
    public static List<String> read(Path file, Charset charset) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
            if (file.getFileName().toString().endsWith(".gz")) {
                try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(bytes))) {
                    bytes = in.readAllBytes();
                } catch (java.util.zip.ZipException e) {
                    throw new DataFormatException(file, 0, "named .gz but not gzip data: " + e.getMessage());
                }
            }
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("data file not found: " + file, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read data file " + file + ": " + e.getMessage(), e);
        }
        CharsetDecoder decoder = charset.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        int start = 0;
        if (charset.equals(StandardCharsets.UTF_8) && bytes.length >= 3
                && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB && (bytes[2] & 0xFF) == 0xBF) {
            start = 3;
        }
        List<String> lines = new ArrayList<>();
        int lineNumber = 1;
        while (start < bytes.length) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            int contentEnd = end > start && bytes[end - 1] == '\r' ? end - 1 : end;
            lines.add(decode(decoder, bytes, start, contentEnd, file, lineNumber));
            start = end + 1;
            lineNumber++;
        }
        return lines;
    }

    private static String decode(CharsetDecoder decoder, byte[] bytes, int from, int to, Path file, int line) {
        ByteBuffer in = ByteBuffer.wrap(bytes, from, to - from);
        try {
            CharBuffer out = decoder.reset().decode(in);
            return out.toString();
        } catch (CharacterCodingException e) {
            // decode() leaves the buffer positioned at the offending input
            int offset = in.position() - from;
            int b = offset < to - from ? bytes[from + offset] & 0xFF : -1;
            throw new DataFormatException(file, line, "not valid " + decoder.charset().name()
                    + ": malformed byte sequence at byte " + (offset + 1) + " of the line"
                    + (b >= 0 ? String.format(" (0x%02X)", b) : ""));
        }
    }
}
