package dev.offramp.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every code point's character class (removed, whitespace, punctuation, CJK, accent, lowercase, NFD) against HF's
 * tokenizer: each code point is tokenized inside a word, "a" + c + "b\u0301", 8 words per text. Planes 0, 1 and 14
 * are swept fully, the unassigned and private-use planes every 7th code point. Run for the uncased file as shipped
 * and for a cased variant (lowercase and strip_accents off), so removal and accent stripping are told apart.
 */
class WordPieceUnicodeSweepTest {
    static final int WORDS_PER_TEXT = 8;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void everyCodePointMatchesHuggingFace(boolean cased) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root;
        try (InputStream in = getClass().getResourceAsStream("/bge-small-en-v1.5-tokenizer.json")) {
            root = (ObjectNode) json.readTree(in);
        }
        if (cased) {
            ((ObjectNode) root.path("normalizer")).put("lowercase", false).put("strip_accents", false);
        }
        Path file = Files.createTempFile("tokenizer", ".json");
        try {
            json.writeValue(file.toFile(), root);
            WordPieceTokenizer ours = WordPieceTokenizer.fromTokenizerJson(file);
            try (HuggingFaceTokenizer ref = HuggingFaceTokenizer.builder().optTokenizerPath(file)
                    .optPadding(false).optTruncation(false).optAddSpecialTokens(false).build()) {
                List<String> texts = new ArrayList<>();
                StringBuilder sb = new StringBuilder();
                int words = 0;
                for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
                    boolean dense = cp < 0x20000 || (cp >= 0xE0000 && cp < 0xF0000);
                    if ((cp >= 0xD800 && cp <= 0xDFFF) || (!dense && cp % 7 != 0)) {
                        continue;
                    }
                    sb.append(" a").appendCodePoint(cp).append("b\u0301");
                    if (++words == WORDS_PER_TEXT) {
                        texts.add(sb.toString());
                        sb.setLength(0);
                        words = 0;
                    }
                }
                texts.add(sb.toString());
                var expected = ref.batchEncode(texts, false, false);
                List<String> mismatches = new ArrayList<>();
                for (int i = 0; i < texts.size(); i++) {
                    long[] mine = Arrays.stream(ours.tokenize(texts.get(i))).asLongStream().toArray();
                    if (!Arrays.equals(expected[i].getIds(), mine) && mismatches.size() < 20) {
                        mismatches.add(texts.get(i).codePoints().filter(c -> c > 0x7F && c != 0x301)
                                .mapToObj(c -> String.format("U+%04X", c)).toList()
                                + " HF " + Arrays.toString(expected[i].getTokens()));
                    }
                }
                assertEquals(List.of(), mismatches, "texts whose ids differ from HF (first 20)");
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
