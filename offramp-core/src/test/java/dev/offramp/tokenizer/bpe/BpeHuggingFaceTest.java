package dev.offramp.tokenizer.bpe;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Offramp's byte-level BPE against Hugging Face's own tokenizers (Rust, Oniguruma regexes, through DJL's JNI
 * binding): the reference strings, every code point of planes 0-2 and 14 in contexts that exercise each branch of
 * the split regexes, and variants of the files that switch on the features the golden files do not use (the other
 * Split behaviours, inverted splits, Digits, prefix space, byte fallback, unknown token, stripping and single-word
 * added tokens, NFKC).
 */
class BpeHuggingFaceTest {
    static final ObjectMapper JSON = new ObjectMapper();

    /** Ids of ours and HF's for each text; returns the first 10 differences. */
    static List<String> compare(Path tokenizerJson, List<String> texts, boolean addSpecial) throws IOException {
        BpeTokenizer ours = BpeTokenizer.fromTokenizerJson(tokenizerJson);
        List<String> diffs = new ArrayList<>();
        for (int i : mismatches(tokenizerJson, texts, addSpecial)) {
            if (diffs.size() == 10) break;
            diffs.add(codePoints(texts.get(i)) + " HF " + Arrays.toString(hfIds(tokenizerJson, texts.get(i), addSpecial))
                    + " ours " + Arrays.toString(ours.encode(texts.get(i), addSpecial)));
        }
        return diffs;
    }

    /** Indices of the texts whose ids differ. */
    static List<Integer> mismatches(Path tokenizerJson, List<String> texts, boolean addSpecial) throws IOException {
        BpeTokenizer ours = BpeTokenizer.fromTokenizerJson(tokenizerJson);
        List<Integer> out = new ArrayList<>();
        try (HuggingFaceTokenizer hf = reference(tokenizerJson, addSpecial)) {
            Encoding[] expected = hf.batchEncode(texts, addSpecial, false);
            for (int i = 0; i < texts.size(); i++) {
                long[] mine = Arrays.stream(ours.encode(texts.get(i), addSpecial)).asLongStream().toArray();
                if (!Arrays.equals(expected[i].getIds(), mine)) out.add(i);
            }
        }
        return out;
    }

    private static HuggingFaceTokenizer reference(Path tokenizerJson, boolean addSpecial) throws IOException {
        return HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson).optPadding(false).optTruncation(false)
                .optAddSpecialTokens(addSpecial).build();
    }

    private static long[] hfIds(Path tokenizerJson, String text, boolean addSpecial) throws IOException {
        try (HuggingFaceTokenizer hf = reference(tokenizerJson, addSpecial)) {
            return hf.encode(text, addSpecial, false).getIds();
        }
    }

    private static String codePoints(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            if (c >= 0x20 && c < 0x7F) b.appendCodePoint(c);
            else b.append(String.format("\\u%04X", c));
        });
        return b.append('"').toString();
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-qwen2", "bpe-gpt2"})
    void referenceStringsMatchHuggingFace(String name) throws IOException {
        Path file = GoldenTokenizers.folder(name).resolve("tokenizer.json");
        List<String> texts = GoldenTokenizers.strings(GoldenTokenizers.golden(name));
        assertEquals(List.of(), compare(file, texts, false), name + " without special tokens");
        assertEquals(List.of(), compare(file, texts.subList(0, 40), true), name + " with special tokens");
    }

    /**
     * Each code point inside contexts that reach every branch of the Llama 3 / Qwen 2 / GPT-2 patterns: after a
     * letter, a digit, a space, a newline, an apostrophe, and alone between spaces; 6 code points per text.
     */
    /**
     * Every code point of the BMP, and every 7th of planes 1, 2 and 14, through the Qwen-2-style file: NFC and the
     * Split regex whose \\p{L}, \\p{N} and \\s classes the Llama 3 and GPT-2 patterns share (their differing
     * structure is covered by the reference strings).
     */
    @Test
    void everyCodePointMatchesHuggingFace() throws IOException {
        String name = "tiny-qwen2";
        Path file = GoldenTokenizers.folder(name).resolve("tokenizer.json");
        List<Integer> cps = new ArrayList<>();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            boolean dense = cp < 0x10000;
            boolean sampled = cp < 0x30000 || (cp >= 0xE0000 && cp < 0xE1000);
            if ((cp >= 0xD800 && cp <= 0xDFFF) || !(dense || (sampled && cp % 7 == 0))) continue;
            cps.add(cp);
        }
        long t0 = System.nanoTime();
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < cps.size(); i += PER_TEXT) {
            StringBuilder sb = new StringBuilder();
            for (int cp : cps.subList(i, Math.min(cps.size(), i + PER_TEXT))) sb.append(context(cp));
            texts.add(sb.toString());
        }
        assertTrue(texts.size() > 10_000, texts.size() + " texts");
        // narrow failing texts down to their code points, so a message names them all
        List<String> differing = new ArrayList<>();
        for (int t : mismatches(file, texts, false)) {
            List<Integer> group = cps.subList(t * PER_TEXT, Math.min(cps.size(), (t + 1) * PER_TEXT));
            List<String> single = group.stream().map(BpeHuggingFaceTest::context).toList();
            for (int k : mismatches(file, single, false)) differing.add(String.format("U+%04X", group.get(k)));
        }
        System.out.printf("%d code points in %d texts against HF: %.1f s%n", cps.size(), texts.size(), (System.nanoTime() - t0) / 1e9);
        assertEquals(List.of(), differing.stream().filter(c -> !NFC_UNICODE_16.contains(c)).toList(),
                name + ": code points whose ids differ from HF");
    }

    static final int PER_TEXT = 6;

    /**
     * Vowel signs of scripts new in Unicode 16 (Tulu-Tigalari, Gurung Khema, Kirat Rai) that, doubled, form a
     * canonical composition Java 25's NFC applies and the older tables inside tokenizers 0.21 do not: a Unicode
     * version difference, not a bug (found by sweeping every code point of plane 1; the default stride meets U+1611E).
     */
    static final List<String> NFC_UNICODE_16 = List.of("U+113C2", "U+1611E", "U+16D67");

    private static String context(int cp) {
        String c = new String(Character.toChars(cp));
        return "a" + c + "b 1" + c + "2 " + c + c + "\n" + c + "'" + c + " " + c + "  ";
    }

    /** A copy of the Llama-style file with {@code edit} applied, compared with HF on the reference strings. */
    private static void variant(String what, Consumer<ObjectNode> edit) throws IOException {
        Path base = GoldenTokenizers.folder("tiny-llama").resolve("tokenizer.json");
        ObjectNode root = (ObjectNode) JSON.readTree(base.toFile());
        edit.accept(root);
        Path file = Files.createTempFile("tokenizer-variant", ".json");
        try {
            JSON.writeValue(file.toFile(), root);
            List<String> texts = new ArrayList<>(GoldenTokenizers.strings(GoldenTokenizers.golden("tiny-llama")));
            texts.addAll(List.of("a--b---c", "x - y", "1-2--3", "  <|pad|>  x", "word<|pad|>word", "a <|pad|> b",
                    "<|pad|>", "ﬁne ① ｆｕｌｌ", "123 4567 89", "mixed123abc456"));
            assertEquals(List.of(), compare(file, texts, false), what);
            assertEquals(List.of(), compare(file, texts.subList(0, 30), true), what + " with special tokens");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static ObjectNode split(ObjectNode root) {
        return (ObjectNode) root.path("pre_tokenizer").path("pretokenizers").get(0);
    }

    @Test
    void splitBehavioursMatchHuggingFace() throws IOException {
        for (String behavior : List.of("Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous")) {
            variant("Split behavior " + behavior, r -> split(r).put("behavior", behavior));
        }
        variant("inverted Split", r -> split(r).put("invert", true).put("behavior", "MergedWithNext"));
        variant("literal Split on '-'", r -> {
            split(r).putObject("pattern").put("String", "-");
            split(r).put("behavior", "MergedWithPrevious");
        });
    }

    @Test
    void digitsPrefixSpaceAndNormalizersMatchHuggingFace() throws IOException {
        for (boolean individual : new boolean[]{true, false}) {
            variant("Digits individual=" + individual, r -> ((ArrayNode) r.path("pre_tokenizer").path("pretokenizers"))
                    .insert(1, JSON.createObjectNode().put("type", "Digits").put("individual_digits", individual)));
        }
        variant("ByteLevel add_prefix_space", r -> ((ObjectNode) r.path("pre_tokenizer").path("pretokenizers").get(1))
                .put("add_prefix_space", true));
        variant("NFKC", r -> r.putObject("normalizer").put("type", "NFKC"));
        variant("Sequence of NFD, NFC", r -> {
            ArrayNode steps = r.putObject("normalizer").put("type", "Sequence").putArray("normalizers");
            steps.addObject().put("type", "NFD");
            steps.addObject().put("type", "NFC");
        });
    }

    @Test
    void addedTokenOptionsMatchHuggingFace() throws IOException {
        variant("lstrip/rstrip", r -> ((ObjectNode) r.path("added_tokens").get(2)).put("lstrip", true).put("rstrip", true));
        variant("single_word, normalized", r -> ((ObjectNode) r.path("added_tokens").get(2)).put("single_word", true)
                .put("normalized", true).put("special", false));
        variant("ignore_merges off, merges as strings", r -> {
            ObjectNode m = (ObjectNode) r.path("model");
            m.put("ignore_merges", false);
            ArrayNode strings = JSON.createArrayNode();
            m.path("merges").forEach(p -> strings.add(p.get(0).asText() + " " + p.get(1).asText()));
            m.set("merges", strings);
        });
    }

    @Test
    void byteFallbackAndUnknownTokenMatchHuggingFace() throws IOException {
        // take 'Ã' (0xC3, the lead byte of é, ü, ...) and 'ð' (0xF0, of emoji) out of the vocabulary: the merges that
        // use them go too; with byte_fallback their UTF-8 becomes <0xC3><0x83> and <0xC3><0xB0>
        Consumer<ObjectNode> dropBytes = r -> {
            ObjectNode vocab = (ObjectNode) r.path("model").path("vocab");
            ArrayNode merges = (ArrayNode) r.path("model").path("merges");
            ArrayNode kept = JSON.createArrayNode();
            List<String> gone = new ArrayList<>(List.of("Ã", "ð"));
            for (JsonNode m : merges) {
                String a = m.get(0).asText(), b = m.get(1).asText();
                if (gone.stream().anyMatch(g -> a.contains(g) || b.contains(g))) gone.add(a + b);
                else kept.add(m);
            }
            gone.forEach(vocab::remove);
            ((ObjectNode) r.path("model")).set("merges", kept);
            // ids dense again (HF numbers added tokens from the vocabulary's size, whatever the file says)
            List<String> order = new ArrayList<>();
            vocab.properties().forEach(e -> order.add(e.getKey()));
            order.sort((a, b) -> Integer.compare(vocab.get(a).asInt(), vocab.get(b).asInt()));
            order.addAll(List.of("<0xC3>", "<0x83>", "<0xB0>", "<0xF0>", "<unk>"));
            vocab.removeAll();
            for (int i = 0; i < order.size(); i++) vocab.put(order.get(i), i);
            int id = order.size();
            for (JsonNode t : r.path("added_tokens")) ((ObjectNode) t).put("id", id++);
        };
        variant("byte_fallback", r -> {
            dropBytes.accept(r);
            ((ObjectNode) r.path("model")).put("byte_fallback", true);
        });
        variant("unk_token, fuse_unk", r -> {
            dropBytes.accept(r);
            ((ObjectNode) r.path("model")).put("unk_token", "<unk>").put("fuse_unk", true);
        });
        variant("no unk_token: dropped", dropBytes);
    }
}
