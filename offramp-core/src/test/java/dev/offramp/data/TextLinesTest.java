package dev.offramp.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TextLinesTest {

    @Test
    void bomCrlfAndUnterminatedLastLine(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("a.tsv");
        Files.write(f, "\uFEFFh1\th2\r\nx\t\"y\r\n\nnaïve\tlast".getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of("h1\th2", "x\t\"y", "", "naïve\tlast"), TextLines.readUtf8(f));
    }

    @Test
    void gzippedFileIsReadAsItsContents(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("docs.jsonl.gz");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(f))) {
            out.write("{\"text\":\"a\"}\nnaïve\n".getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(List.of("{\"text\":\"a\"}", "naïve"), TextLines.readUtf8(f));
        Path notGzip = Files.writeString(dir.resolve("plain.gz"), "plain text");
        DataFormatException e = assertThrows(DataFormatException.class, () -> TextLines.readUtf8(notGzip));
        assertTrue(e.getMessage().contains("not gzip data"), e.getMessage());
    }

    @Test
    void emptyFileHasNoLines(@TempDir Path dir) throws IOException {
        Path f = Files.write(dir.resolve("e.tsv"), new byte[0]);
        assertEquals(List.of(), TextLines.readUtf8(f));
    }

    @Test
    void truncatedMultibyteSequenceIsReportedWithLine(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("b.tsv");
        // line 2 ends in the first two bytes of a three-byte character (€ = E2 82 AC)
        Files.write(f, new byte[]{'o', 'k', '\n', 'a', 'b', (byte) 0xE2, (byte) 0x82, '\n'});
        DataFormatException e = assertThrows(DataFormatException.class, () -> TextLines.readUtf8(f));
        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains("byte 3"), e.getMessage());
    }

    @Test
    void latin1CanBeReadWhenAsked(@TempDir Path dir) throws IOException {
        Path f = Files.write(dir.resolve("c.txt"), new byte[]{'c', 'a', 'f', (byte) 0xE9});
        assertEquals(List.of("café"), TextLines.read(f, StandardCharsets.ISO_8859_1));
    }

    @Test
    void missingFileNamesThePath(@TempDir Path dir) {
        Path f = dir.resolve("nope.tsv");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> TextLines.readUtf8(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }
}
