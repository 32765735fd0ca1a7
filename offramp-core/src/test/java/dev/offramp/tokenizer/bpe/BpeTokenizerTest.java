package dev.offramp.tokenizer.bpe;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/** The byte map, streaming decode, and refusal of what a byte-level BPE tokenizer cannot be, naming it. */
class BpeTokenizerTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static BpeTokenizer llama() {
        return BpeTokenizer.fromTokenizerJson(GoldenTokenizers.folder("tiny-llama").resolve("tokenizer.json"));
    }

    @Test
    void byteMapIsGpt2s() {
        assertEquals('Ġ', ByteLevel.charOf(' '));
        assertEquals('Ċ', ByteLevel.charOf('\n'));
        assertEquals('!', ByteLevel.charOf('!'));
        assertEquals('Ā', ByteLevel.charOf(0));
        assertEquals('Ń', ByteLevel.charOf(0xAD), "the last unprintable byte, U+0100 + 67");
        java.util.Set<Character> seen = new java.util.HashSet<>();
        for (int b = 0; b < 256; b++) {
            assertTrue(seen.add(ByteLevel.charOf(b)), "one character per byte");
            assertEquals(b, ByteLevel.byteOf(ByteLevel.charOf(b)));
        }
        assertEquals(-1, ByteLevel.byteOf('€'));
        assertEquals("ĠcafÃ©", ByteLevel.encode(" café"));
    }

    @Test
    void streamingHoldsBackUnfinishedCharacters() {
        BpeTokenizer tok = llama();
        String text = "Zürich 😀👍🏽 東京! 😀";
        int[] ids = tok.encode(text);
        StreamDecoder stream = tok.newStreamDecoder(false);
        StringBuilder out = new StringBuilder();
        int heldBack = 0;
        for (int id : ids) {
            String piece = stream.push(id);
            for (char ch : piece.toCharArray()) assertNotEquals('\uFFFD', ch, "no replacement character mid-stream");
            if (piece.isEmpty()) heldBack++;
            out.append(piece);
        }
        out.append(stream.flush());
        assertEquals(text, out.toString());
        assertTrue(heldBack > 0, "some tokens end inside a character: " + ids.length + " tokens");
        // an unfinished character at the end comes out as U+FFFD
        StreamDecoder cut = tok.newStreamDecoder(false);
        for (int id : tok.encode("🦊")) {   // not in the corpus, so not one token
            if (tok.tokenBytes(id)[0] == (byte) 0xF0) {
                assertEquals("", cut.push(id));
                break;
            }
        }
        assertEquals("\uFFFD", cut.flush());
        StreamDecoder skip = tok.newStreamDecoder(true);
        assertEquals("", skip.push(tok.id("<|end_of_text|>")));
    }

    @Test
    void badIdsAreNamed() {
        BpeTokenizer tok = llama();
        String m = assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[]{5, 4000})).getMessage();
        assertTrue(m.contains("token id 4000"), m);
        assertEquals(-1, tok.id("no such token"));
    }

    private static void assertRefused(Consumer<ObjectNode> edit, String... phrases) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(GoldenTokenizers.folder("tiny-llama").resolve("tokenizer.json").toFile());
        edit.accept(root);
        byte[] bytes = JSON.writeValueAsBytes(root);
        String m = assertThrows(IllegalArgumentException.class,
                () -> BpeTokenizer.fromTokenizerJson(new ByteArrayInputStream(bytes), "edited.json")).getMessage();
        assertTrue(m.startsWith("edited.json"), m);
        for (String p : phrases) assertTrue(m.contains(p), "message '" + m + "' should contain '" + p + "'");
    }

    @Test
    void unsupportedPartsAreNamed() throws IOException {
        assertRefused(r -> ((ObjectNode) r.get("model")).put("type", "WordPiece"), "model type 'WordPiece'");
        assertRefused(r -> ((ObjectNode) r.get("model")).put("type", "Unigram"), "'Unigram'");
        assertRefused(r -> r.putObject("pre_tokenizer").put("type", "Metaspace"), "pre-tokenizer type 'Metaspace'");
        assertRefused(r -> r.putObject("pre_tokenizer").put("type", "Split").putObject("pattern").put("Regex", "\\s+"),
                "no ByteLevel step");
        assertRefused(r -> r.putObject("normalizer").put("type", "Lowercase"), "normalizer type 'Lowercase'");
        assertRefused(r -> r.putObject("decoder").put("type", "WordPiece"), "decoder type 'WordPiece'");
        assertRefused(r -> r.putObject("post_processor").put("type", "RobertaProcessing"), "'RobertaProcessing'");
        assertRefused(r -> ((ObjectNode) r.get("model")).put("dropout", 0.1), "dropout");
        assertRefused(r -> ((ObjectNode) r.get("model")).put("continuing_subword_prefix", "##"), "continuing_subword_prefix");
        assertRefused(r -> ((ArrayNode) r.get("model").get("merges")).insert(0, JSON.createArrayNode().add("Ġ").add("zz")),
                "merge 0", "'zz'");
        assertRefused(r -> ((ArrayNode) r.get("model").get("merges")).insert(3, "a b c"), "merge 3", "'a b c'");
        assertRefused(r -> ((ObjectNode) r.get("pre_tokenizer").get("pretokenizers").get(0).get("pattern")).put("Regex", "(?<"),
                "Split pattern (?<");
        String m = assertThrows(IllegalArgumentException.class, () -> BpeTokenizer.fromTokenizerJson(
                new ByteArrayInputStream("[1]".getBytes(StandardCharsets.UTF_8)), "x.json")).getMessage();
        assertTrue(m.contains("x.json"), m);
    }
}
