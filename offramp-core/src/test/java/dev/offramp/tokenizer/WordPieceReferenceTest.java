package dev.offramp.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.util.PairList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our tokenizer against Hugging Face's own (Rust, through DJL's JNI binding) on every GLUE dev sentence of SST-2,
 * MRPC and RTE and on hand-made hard cases, for both bundled tokenizer.json files, with and without truncation.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WordPieceReferenceTest {
    static final String[] FILES = {"/bge-small-en-v1.5-tokenizer.json", "/all-minilm-l6-v2-tokenizer.json"};
    static final int PAIR_MAX = 16;
    static final int SINGLE_MAX = 16;

    static final String LONG_WORD = "a".repeat(101);

    static final String[] HARD = {
            "", " ", "   \t\n  ", "\n", "Café naïve résumé", "CAFÉ NAÏVE", "Ünïcödé Straße", "İstanbul ΣΑΣ ΟΔΟΣ",
            "北京欢迎你", "日本語のテキスト", "한국어 텍스트", "mixed中文and English", "𠀀𪜀 ext-b",
            "emoji 😀🥰🫠 👍🏽 👨‍👩‍👧", "control\u0000chars\u0001here\u007f\u0085 and\u000bvt\u000cff",
            "zero\u200bwidth\u200djoiner\ufeffbom", "non\u00a0breaking\u2009thin\u3000ideographic",
            "tabs\tand\nnewlines\r\nmixed", "multiple     spaces    here", LONG_WORD, "x " + LONG_WORD + " y",
            "é".repeat(100), "é".repeat(101), "😀".repeat(60) + "a", "supercalifragilisticexpialidocious",
            "[MASK]", "the [MASK] sat on the mat", "a[MASK]b", "[mask] [Mask]", "[CLS] [SEP] [PAD] [UNK]",
            "[MASK][MASK]", "[[MASK]]", "[MAS", "https://example.com/path?q=1&x=2#frag", "user@example.org",
            "3.14159 1,000,000 $5.00 50% 1/2 -7 +8 10^3 a=b c<d e>f g|h ~i `j`", "don't won't it's y'all",
            "«quoted» “smart” ‘single’ — dash – endash … ellipsis", "¿Qué? ¡Sí!", "C++ C# F# .NET node.js",
            "\ufffdreplacement\ufffd", "ﬁ ﬂ ① ² ½ ™ Ⅻ", "\u0301leading combining", "a\u0301\u0302\u0303",
            "ΑΒΓ αβγ Кириллица ПРИВЕТ", "العربية עברית", "हिन्दी ภาษาไทย", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ",
            "private\ue000use\udb80\udc00", "\u2028line\u2029para\u1680ogham", "…", "___", "--", "a-b_c.d",
    };

    final Map<String, WordPieceTokenizer> ours = new HashMap<>();
    final Map<String, HuggingFaceTokenizer> reference = new HashMap<>();
    final Map<String, HuggingFaceTokenizer> referenceTruncating = new HashMap<>();
    final List<Path> temp = new ArrayList<>();

    @BeforeAll
    void load() throws IOException {
        for (String file : FILES) {
            Path json = Files.createTempFile("tokenizer", ".json");
            temp.add(json);
            try (InputStream in = WordPieceReferenceTest.class.getResourceAsStream(file)) {
                Files.copy(in, json, StandardCopyOption.REPLACE_EXISTING);
            }
            ours.put(file, WordPieceTokenizer.fromResource(file));
            // all-MiniLM's file asks for padding to 128: switch the file's own settings off
            reference.put(file, HuggingFaceTokenizer.builder().optTokenizerPath(json)
                    .optPadding(false).optTruncation(false).build());
            referenceTruncating.put(file, HuggingFaceTokenizer.builder().optTokenizerPath(json)
                    .optPadding(false).optTruncation(true).optMaxLength(PAIR_MAX).build());
        }
    }

    @AfterAll
    void close() throws IOException {
        reference.values().forEach(HuggingFaceTokenizer::close);
        referenceTruncating.values().forEach(HuggingFaceTokenizer::close);
        for (Path p : temp) {
            Files.deleteIfExists(p);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/bge-small-en-v1.5-tokenizer.json", "/all-minilm-l6-v2-tokenizer.json"})
    void sst2SentencesMatch(String file) throws IOException {
        List<String> texts = SharedData.columns(SharedData.glue("SST-2", "dev.tsv"), "sentence")
                .stream().map(r -> r[0]).toList();
        assertEquals(872, texts.size());
        int checked = compareSingles(file, texts);
        assertEquals(872 * 2, checked);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/bge-small-en-v1.5-tokenizer.json", "/all-minilm-l6-v2-tokenizer.json"})
    void mrpcPairsMatch(String file) throws IOException {
        List<String[]> pairs = SharedData.columns(SharedData.glue("MRPC", "dev.tsv"), "#1 String", "#2 String");
        assertEquals(408, pairs.size());
        assertEquals(408 * 2, comparePairs(file, pairs));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/bge-small-en-v1.5-tokenizer.json", "/all-minilm-l6-v2-tokenizer.json"})
    void rtePairsMatch(String file) throws IOException {
        List<String[]> pairs = SharedData.columns(SharedData.glue("RTE", "dev.tsv"), "sentence1", "sentence2");
        assertEquals(277, pairs.size());
        assertEquals(277 * 2, comparePairs(file, pairs));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/bge-small-en-v1.5-tokenizer.json", "/all-minilm-l6-v2-tokenizer.json"})
    void hardCasesMatch(String file) {
        compareSingles(file, Arrays.asList(HARD));
        // every hard case against every other one as a pair, to cover lopsided longest_first splits
        List<String[]> pairs = new ArrayList<>();
        for (String a : HARD) {
            for (String b : HARD) {
                pairs.add(new String[] {a, b});
            }
        }
        comparePairs(file, pairs);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/bge-small-en-v1.5-tokenizer.json", "/all-minilm-l6-v2-tokenizer.json"})
    void wordPiecesWithoutSpecialsMatch(String file) {
        WordPieceTokenizer tok = ours.get(file);
        HuggingFaceTokenizer ref = reference.get(file);
        for (String text : HARD) {
            long[] expected = ref.encode(text, false, false).getIds();
            assertArrayEquals(expected, toLong(tok.tokenize(text)), () -> "tokenize(\"" + text + "\")");
        }
    }

    /** Compares full-length and truncated single encodings; returns how many were compared. */
    private int compareSingles(String file, List<String> texts) {
        WordPieceTokenizer tok = ours.get(file);
        var full = reference.get(file).batchEncode(texts);
        var cut = referenceTruncating.get(file).batchEncode(texts);
        int checked = 0;
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i);
            Encoding e = tok.encode(text, 100_000);
            assertArrayEquals(full[i].getIds(), toLong(e.ids()), () -> file + " ids of \"" + text + "\"");
            assertArrayEquals(full[i].getTypeIds(), toLong(e.typeIds()), () -> file + " type ids of \"" + text + "\"");
            Encoding t = tok.encode(text, SINGLE_MAX);
            assertArrayEquals(cut[i].getIds(), toLong(t.ids()), () -> file + " truncated ids of \"" + text + "\"");
            assertTrue(t.length() <= SINGLE_MAX);
            checked += 2;
        }
        return checked;
    }

    private int comparePairs(String file, List<String[]> pairs) {
        WordPieceTokenizer tok = ours.get(file);
        var list = new PairList<String, String>();
        for (String[] p : pairs) {
            list.add(p[0], p[1]);
        }
        var full = reference.get(file).batchEncode(list);
        var cut = referenceTruncating.get(file).batchEncode(list);
        int checked = 0;
        for (int i = 0; i < pairs.size(); i++) {
            String[] p = pairs.get(i);
            String what = "\"" + p[0] + "\" / \"" + p[1] + "\"";
            Encoding e = tok.encodePair(p[0], p[1], 100_000);
            assertArrayEquals(full[i].getIds(), toLong(e.ids()), () -> file + " ids of " + what);
            assertArrayEquals(full[i].getTypeIds(), toLong(e.typeIds()), () -> file + " type ids of " + what);
            Encoding t = tok.encodePair(p[0], p[1], PAIR_MAX);
            assertArrayEquals(cut[i].getIds(), toLong(t.ids()), () -> file + " truncated ids of " + what);
            assertArrayEquals(cut[i].getTypeIds(), toLong(t.typeIds()), () -> file + " truncated type ids of " + what);
            checked += 2;
        }
        return checked;
    }

    static long[] toLong(int[] a) {
        long[] r = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i];
        }
        return r;
    }
}
