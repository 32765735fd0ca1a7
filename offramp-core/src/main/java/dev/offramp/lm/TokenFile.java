package dev.offramp.lm;

import dev.offramp.io.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A tokenized corpus cached on disk: a 24-byte header (magic "OFTK", version, a fingerprint of what produced the
 * tokens, the token count) then the ids as little-endian int32. The fingerprint covers the tokenizer and the
 * corpus description, so a cache made with another tokenizer or other sources is rebuilt, never reused.
 */
public final class TokenFile {
    private static final int MAGIC = 0x4B54464F, VERSION = 1, HEADER = 24;

    private TokenFile() {}

    public static void write(Path file, long fingerprint, int[] tokens) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        AtomicFiles.write(file, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer head = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
                head.putInt(MAGIC).putInt(VERSION).putLong(fingerprint).putLong(tokens.length).flip();
                while (head.hasRemaining()) ch.write(head);
                ByteBuffer body = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < tokens.length; ) {
                    body.clear();
                    while (i < tokens.length && body.remaining() >= 4) body.putInt(tokens[i++]);
                    body.flip();
                    while (body.hasRemaining()) ch.write(body);
                }
            }
        });
    }

    /** The tokens, whatever produced them (for tools that read a finished run's cache); throws when missing. */
    public static int[] read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException(file + " is missing (the token cache of a train-lm run)");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
            while (head.hasRemaining() && ch.read(head) >= 0) { }
            head.flip();
            if (head.remaining() < HEADER || head.getInt() != MAGIC || head.getInt() != VERSION) {
                throw new IOException(file + " is not a token file (magic/version)");
            }
            return readIfCurrent(file, head.getLong());
        }
    }

    /** The tokens, or null when the file is missing or was made from something else (another fingerprint). */
    public static int[] readIfCurrent(Path file, long fingerprint) throws IOException {
        if (!Files.isRegularFile(file)) return null;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < HEADER) throw new IOException(file + ": " + size + " bytes, shorter than the header; delete it");
            ByteBuffer head = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
            while (head.hasRemaining() && ch.read(head) >= 0) { }
            head.flip();
            if (head.getInt() != MAGIC || head.getInt() != VERSION) throw new IOException(file + " is not a token file (magic/version)");
            if (head.getLong() != fingerprint) return null;
            long count = head.getLong();
            if (count < 0 || count > Integer.MAX_VALUE - 16 || size != HEADER + 4 * count) {
                throw new IOException(file + ": header says " + count + " tokens but the file has " + size + " bytes; delete it");
            }
            int[] tokens = new int[(int) count];
            ch.map(FileChannel.MapMode.READ_ONLY, HEADER, 4 * count).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(tokens);
            return tokens;
        }
    }
}
