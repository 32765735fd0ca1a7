package dev.offramp.tokenizer.bpe;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Offramp's byte-level BPE against scripts/reference/llama_reference.py (stdlib re with \p{L}/\p{N}/\s rebuilt
 * from unicodedata, GPT-2's merge loop) on its 300 strings, for a Llama-3-, a Qwen-2- and a GPT-2-style
 * tokenizer.json sharing one vocabulary: ids equal, with and without the post-processor's special tokens, and
 * decoding gives the text back (NFC-normalized for Qwen 2).
 */
class BpeGoldenTest {
    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-qwen2", "bpe-gpt2"})
    void idsEqualTheReferenceAndDecodeBack(String name) throws IOException {
        BpeTokenizer tok = BpeTokenizer.fromTokenizerJson(GoldenTokenizers.folder(name).resolve("tokenizer.json"));
        JsonNode cases = GoldenTokenizers.golden(name).path("tokenizer");
        assertTrue(cases.path("cases").size() >= 300, "a few hundred strings");
        List<String> mismatches = new ArrayList<>();
        int tokens = 0;
        for (JsonNode c : cases.path("cases")) {
            String text = c.get("text").asText();
            int[] want = GoldenTokenizers.ints(c.get("ids")), got = tok.encode(text);
            tokens += got.length;
            if (!Arrays.equals(want, got) && mismatches.size() < 10) {
                mismatches.add(text + " -> " + Arrays.toString(got) + ", reference " + Arrays.toString(want));
            }
            String expected = name.equals("tiny-qwen2") ? Normalizer.normalize(text, Normalizer.Form.NFC) : text;
            assertEquals(expected, tok.decode(got), "decode(encode(text)) for " + text);
        }
        assertEquals(List.of(), mismatches, name + ": strings whose ids differ from the reference");
        assertTrue(tokens > 2000, "the strings make " + tokens + " tokens");
        for (JsonNode c : cases.path("with_special_tokens")) {
            assertArrayEquals(GoldenTokenizers.ints(c.get("ids")), tok.encode(c.get("text").asText(), true),
                    "with special tokens: " + c.get("text").asText());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-qwen2", "bpe-gpt2"})
    void theThreeStylesSplitDifferently(String name) {
        BpeTokenizer tok = BpeTokenizer.fromTokenizerJson(GoldenTokenizers.folder(name).resolve("tokenizer.json"));
        int bos = tok.id("<|begin_of_text|>");
        assertEquals(418, bos, "specials follow the 418 vocabulary entries");
        // Llama 3 groups digits by three, Qwen 2 splits every digit, GPT-2 keeps the run with its leading space
        int[] digits = tok.encode(" 1234567");
        switch (name) {
            case "tiny-llama" -> {
                assertArrayEquals(new int[]{bos}, tok.prefixIds(), "Llama 3's template starts with <|begin_of_text|>");
                assertEquals(" ", tok.decode(new int[]{tok.encode(" 1234567")[0]}), "the space is a piece of its own");
                assertArrayEquals(new int[]{tok.id("Ġzebra")}, tok.encode(" zebra"), "ignore_merges: a whole vocabulary word");
            }
            case "tiny-qwen2" -> {
                assertEquals(8, digits.length, "a space and seven single digits: " + Arrays.toString(digits));
                assertEquals(0, tok.prefixIds().length);
                assertTrue(tok.encode(" zebra").length > 1, "without ignore_merges ' zebra' is built by merges");
                assertArrayEquals(tok.encode("caf\u00e9"), tok.encode("cafe\u0301"), "NFC makes both spellings one");
            }
            case "bpe-gpt2" -> {
                assertEquals(0, tok.prefixIds().length);
                assertFalse(Arrays.equals(tok.encode("caf\u00e9"), tok.encode("cafe\u0301")), "no normalizer");
            }
            default -> fail(name);
        }
        assertEquals(" 1234567", tok.decode(digits));
        assertArrayEquals(new int[]{tok.id("<|end_of_text|>")}, tok.encode("<|end_of_text|>"), "added token matched whole");
        assertTrue(tok.isSpecial(tok.id("<|end_of_text|>")));
        assertEquals("ab", tok.decode(tok.encode("a<|end_of_text|>b"), true), "skip special tokens");
        assertEquals("a<|end_of_text|>b", tok.decode(tok.encode("a<|end_of_text|>b")));
    }
}
