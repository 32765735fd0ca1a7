package dev.offramp.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** API behaviour: specials, truncation modes, validation, vocab.txt loading, UTF-8, threads, speed. */
class WordPieceTokenizerTest {
    static final String BGE = "/bge-small-en-v1.5-tokenizer.json";
    static WordPieceTokenizer tok;
    static List<String> sst2;

    @BeforeAll
    static void load() throws IOException {
        tok = WordPieceTokenizer.fromResource(BGE);
        sst2 = SharedData.columns(SharedData.glue("SST-2", "dev.tsv"), "sentence").stream().map(r -> r[0]).toList();
    }

    @Test
    void vocabularyAndSpecialIds() {
        assertEquals(30522, tok.vocabSize());
        assertEquals(0, tok.padId());
        assertEquals(100, tok.unkId());
        assertEquals(101, tok.clsId());
        assertEquals(102, tok.sepId());
        assertEquals(103, tok.maskId());
        assertEquals(1996, tok.id("the"));
        assertEquals("the", tok.token(1996));
        assertEquals("[MASK]", tok.token(103));
        assertEquals(-1, tok.id("not-a-token"));
        assertThrows(IllegalArgumentException.class, () -> tok.token(30522));
        assertThrows(IllegalArgumentException.class, () -> tok.token(-1));
    }

    @Test
    void wordPiecesAndSpecialTokensInText() {
        // a word split into pieces: first piece plain, the rest "##"-prefixed, together the lowercased word
        int[] pieces = tok.tokenize("UnAffable");
        assertTrue(pieces.length > 1);
        StringBuilder joined = new StringBuilder(tok.token(pieces[0]));
        for (int k = 1; k < pieces.length; k++) {
            assertTrue(tok.token(pieces[k]).startsWith("##"), tok.token(pieces[k]));
            joined.append(tok.token(pieces[k]).substring(2));
        }
        assertEquals("unaffable", joined.toString());
        Encoding e = tok.encode("the [MASK] sat", 512);
        assertArrayEquals(new int[] {101, 1996, 103, 2938, 102}, e.ids());
        assertArrayEquals(new int[5], e.typeIds());
        // only the exact spelling is special; lowercase "[mask]" is three ordinary tokens
        assertEquals(3, tok.tokenize("[mask]").length);
        assertArrayEquals(new int[] {tok.unkId()}, tok.tokenize("x".repeat(101)));
        assertTrue(Arrays.stream(tok.tokenize("x".repeat(100))).noneMatch(id -> id == tok.unkId()));
    }

    @Test
    void emptyTextGivesClsSepUnlessStrict() {
        assertArrayEquals(new int[] {101, 102}, tok.encode("", 8).ids());
        assertArrayEquals(new int[] {101, 102, 102}, tok.encodePair("", "", 8).ids());
        var e = assertThrows(IllegalArgumentException.class, () -> tok.encode(" \t\n", 8, Truncation.STRICT));
        assertTrue(e.getMessage().startsWith("empty text"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tok.encodePair("a", "", 8, Truncation.STRICT));
        assertTrue(e.getMessage().startsWith("empty text"), e.getMessage());
    }

    @Test
    void validateRejectsNullAndBlank() {
        var npe = assertThrows(NullPointerException.class, () -> WordPieceTokenizer.validate(null));
        assertEquals("text is null", npe.getMessage());
        for (String blank : new String[] {"", " ", "\t\n\r ", "\u00a0\u3000"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> WordPieceTokenizer.validate(blank));
            assertEquals("empty text", e.getMessage());
        }
        assertEquals(" a ", WordPieceTokenizer.validate(" a "));
        assertThrows(NullPointerException.class, () -> tok.encode(null, 8));
    }

    @Test
    void truncationModes() {
        String text = "one two three four five six"; // 6 word pieces
        assertEquals(8, tok.encode(text, 8, Truncation.STRICT).length()); // exactly fits
        Encoding cut = tok.encode(text, 5);
        assertArrayEquals(new int[] {101, tok.id("one"), tok.id("two"), tok.id("three"), 102}, cut.ids());
        var e = assertThrows(IllegalArgumentException.class, () -> tok.encode(text, 7, Truncation.STRICT));
        assertEquals("input has 8 tokens, the model accepts at most 7", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tok.encodePair(text, "a b", 10, Truncation.STRICT));
        assertEquals("input has 11 tokens, the model accepts at most 10", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.encode(text, 1));
        assertThrows(IllegalArgumentException.class, () -> tok.encodePair(text, text, 2));
    }

    @Test
    void longestFirstKeepsTheShortSideWhole() {
        String a = "a b c";                                 // 3 pieces
        String b = "x ".repeat(20).trim();                  // 20 pieces
        Encoding e = tok.encodePair(a, b, 16);              // 13 to share: a keeps 3, b gets 10
        assertEquals(16, e.length());
        assertEquals(102, e.ids()[4]);
        assertEquals(11, Arrays.stream(e.typeIds()).sum()); // 10 of b + final [SEP]
        Encoding even = tok.encodePair(b, b, 16);           // both long: 6 and 7, the second gets the odd one
        assertEquals(102, even.ids()[7]);
        assertEquals(8, Arrays.stream(even.typeIds()).sum());
    }

    @Test
    void unsupportedTokenizerTypesAreNamed() throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root;
        try (InputStream in = getClass().getResourceAsStream(BGE)) {
            root = (ObjectNode) json.readTree(in);
        }
        ((ObjectNode) root.path("model")).put("type", "BPE");
        var e = assertThrows(IllegalArgumentException.class, () -> WordPieceTokenizer.fromTokenizerJson(
                new ByteArrayInputStream(json.writeValueAsBytes(root)), "bpe.json"));
        assertTrue(e.getMessage().contains("bpe.json") && e.getMessage().contains("BPE"), e.getMessage());

        ((ObjectNode) root.path("model")).put("type", "WordPiece");
        root.putObject("normalizer").put("type", "NFKC");
        e = assertThrows(IllegalArgumentException.class, () -> WordPieceTokenizer.fromTokenizerJson(
                new ByteArrayInputStream(json.writeValueAsBytes(root)), "nfkc.json"));
        assertTrue(e.getMessage().contains("NFKC"), e.getMessage());
    }

    @Test
    void vocabTxtGivesTheSameIdsAsTokenizerJson() throws IOException {
        String[] byId = new String[tok.vocabSize()];
        for (int id = 0; id < byId.length; id++) {
            byId[id] = tok.token(id);
        }
        Path vocab = Files.createTempFile("vocab", ".txt");
        try {
            Files.writeString(vocab, String.join("\n", byId) + "\n", StandardCharsets.UTF_8);
            WordPieceTokenizer fromTxt = WordPieceTokenizer.fromVocabTxt(vocab, true);
            assertEquals(tok.vocabSize(), fromTxt.vocabSize());
            assertEquals(103, fromTxt.maskId());
            List<String> texts = new ArrayList<>(sst2);
            texts.addAll(Arrays.asList(WordPieceReferenceTest.HARD));
            for (String t : texts) {
                assertArrayEquals(tok.encode(t, 512).ids(), fromTxt.encode(t, 512).ids(), t);
            }
            // cased: no lowercasing, no accent stripping
            WordPieceTokenizer cased = WordPieceTokenizer.fromVocabTxt(vocab, false);
            assertArrayEquals(new int[] {tok.unkId()}, cased.tokenize("The"));
        } finally {
            Files.deleteIfExists(vocab);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> WordPieceTokenizer.fromVocabTxt(
                "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n".getBytes(StandardCharsets.UTF_8), true, "small.txt"));
        assertEquals("small.txt: vocabulary has no [MASK] token", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> WordPieceTokenizer.fromVocabTxt(
                new byte[] {'a', '\n', (byte) 0xFF, '\n'}, true, "bad.txt"));
        assertTrue(e.getMessage().startsWith("bad.txt: invalid UTF-8 at byte offset 2"), e.getMessage());
    }

    @Test
    void strictUtf8NamesTheByteOffset() {
        byte[] ok = "Café 北京 😀".getBytes(StandardCharsets.UTF_8);
        assertEquals("Café 北京 😀", WordPieceTokenizer.decodeUtf8Strict(ok));
        assertEquals("", WordPieceTokenizer.decodeUtf8Strict(new byte[0]));
        byte[][] bad = {{'a', 'b', (byte) 0xC3, '('}, {'a', 'b', 'c', (byte) 0xE2, (byte) 0x82}, {(byte) 0xC0, (byte) 0xAF},
                {'x', (byte) 0xED, (byte) 0xA0, (byte) 0x80}};
        int[] offsets = {2, 3, 0, 1};
        for (int k = 0; k < bad.length; k++) {
            byte[] bytes = bad[k];
            var e = assertThrows(IllegalArgumentException.class, () -> WordPieceTokenizer.decodeUtf8Strict(bytes));
            assertTrue(e.getMessage().startsWith("invalid UTF-8 at byte offset " + offsets[k] + ":"), e.getMessage());
        }
    }

    @Test
    void concurrentCallersGetTheSameIds() throws Exception {
        int[][] expected = sst2.stream().map(t -> tok.encode(t, 128).ids()).toArray(int[][]::new);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int thread = 0; thread < 4; thread++) {
                int offset = thread * 97;
                results.add(pool.submit(() -> {
                    int same = 0;
                    for (int k = 0; k < sst2.size(); k++) {
                        int i = (k + offset) % sst2.size();
                        same += Arrays.equals(expected[i], tok.encode(sst2.get(i), 128).ids()) ? 1 : 0;
                    }
                    return same;
                }));
            }
            for (Future<Integer> r : results) {
                assertEquals(sst2.size(), r.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void sst2DevTokenizesInMilliseconds() {
        long tokens = 0;
        for (int warm = 0; warm < 20; warm++) {
            for (String t : sst2) {
                tokens += tok.encode(t, 512).length();
            }
        }
        long best = Long.MAX_VALUE;
        for (int rep = 0; rep < 5; rep++) {
            long t0 = System.nanoTime();
            for (String t : sst2) {
                tokens += tok.encode(t, 512).length();
            }
            best = Math.min(best, System.nanoTime() - t0);
        }
        System.out.printf("SST-2 dev (872 sentences): %.2f ms per pass (best of 5)%n", best / 1e6);
        assertTrue(tokens > 0);
        // generous bound for a loaded 2-core machine; measured figures go in the report, not here
        assertTrue(best < 500_000_000L, "SST-2 dev took " + best / 1e6 + " ms");
    }
}
