package dev.offramp.tokenizer.bpe;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Decodes generated ids one at a time for streaming. A byte-level token can end in the middle of a UTF-8
 * character (an emoji is often two or three tokens), so the bytes of an unfinished character are held back until
 * the token that completes it arrives. Not thread-safe: one per generated sequence.
 */
public final class StreamDecoder {
    private final BpeTokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    StreamDecoder(BpeTokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** The text that id completes (possibly empty). */
    public String push(int id) {
        if (skipSpecialTokens && tokenizer.isSpecial(id)) return "";
        pending.writeBytes(tokenizer.tokenBytes(id));
        byte[] b = pending.toByteArray();
        int cut = completePrefix(b);
        pending.reset();
        pending.write(b, cut, b.length - cut);
        return new String(b, 0, cut, StandardCharsets.UTF_8);
    }

    /** Whatever is held back, with U+FFFD for an unfinished character. */
    public String flush() {
        String s = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return s;
    }

    /** Length of b without a trailing, still incomplete UTF-8 sequence (at most 3 bytes are held back). */
    static int completePrefix(byte[] b) {
        for (int back = 1; back <= Math.min(3, b.length); back++) {
            int lead = b[b.length - back] & 0xFF;
            if ((lead & 0xC0) == 0x80) continue;              // continuation byte: look further back
            int need = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 1;
            if (lead >= 0xF5) need = 1;                       // not a lead byte: let it through as U+FFFD
            return need > back ? b.length - back : b.length;
        }
        return b.length;
    }
}
