package dev.offramp.tokenizer.bpe;

import dev.offramp.data.DataPaths;
import dev.offramp.data.TextCleaner;
import dev.offramp.data.TextLines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The BPE trainer: its merges against a recount-everything trainer, and the tokenizer it makes round-tripping text. */
class BpeTrainerTest {

    /** IMDB reviews (cleaned), the first and the last n lines of the training file: two disjoint samples. */
    static List<String> imdb(int n, boolean fromEnd) {
        List<String> lines = TextLines.readUtf8(DataPaths.data().resolve("imdb/train.tsv"));
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String line = lines.get(fromEnd ? lines.size() - 1 - i : 1 + i);
            out.add(TextCleaner.replaceHtmlLineBreaks(line.substring(line.lastIndexOf('\t') + 1)));
        }
        return out;
    }

    static BpeTrainer.WordCounts count(List<String> texts, BpeTokenizerWriter.Style style) {
        BpeTrainer.WordCounts w = new BpeTrainer.WordCounts(style);
        texts.forEach(w::add);
        return w;
    }

    @Test
    void firstMergesByHand() {
        // GPT-2 pieces: "ab" ×1, "Ġab" ×2, "Ġabc" ×2 → (a,b) 5, then (Ġ,ab) 4, then (Ġab,c) 2; (b,c) never wins
        BpeTrainer.Vocabulary v = BpeTrainer.train(count(List.of("ab ab ab abc abc"), BpeTokenizerWriter.Style.GPT2), 259, 1);
        assertEquals(List.of("a b", "Ġ ab", "Ġab c"), v.merges().stream().map(m -> m[0] + " " + m[1]).toList());
        assertEquals(List.of("ab", "Ġab", "Ġabc"), v.tokens().subList(256, 259));
        // with minFrequency 3 the third merge (count 2) does not happen
        assertEquals(2, BpeTrainer.train(count(List.of("ab ab ab abc abc"), BpeTokenizerWriter.Style.GPT2), 300, 3).merges().size());
    }

    @Test
    void incrementalCountsGiveTheMergesOfARecountEverythingTrainer() {
        List<String> texts = imdb(60, false);
        BpeTrainer.Vocabulary fast = BpeTrainer.train(count(texts, BpeTokenizerWriter.Style.LLAMA3), 700, 2);
        List<String[]> slow = recountEverything(texts, 700, 2);
        assertTrue(fast.merges().size() > 400, "enough merges to mean something: " + fast.merges().size());
        assertEquals(slow.size(), fast.merges().size());
        for (int i = 0; i < slow.size(); i++) {
            assertArrayEquals(slow.get(i), fast.merges().get(i), "merge " + i);
        }
        // deterministic
        assertEquals(fast.tokens(), BpeTrainer.train(count(texts, BpeTokenizerWriter.Style.LLAMA3), 700, 2).tokens());
    }

    /** The textbook trainer: recount every pair of every word after each merge. Same tie-break (smaller ids). */
    static List<String[]> recountEverything(List<String> texts, int vocabSize, int minFrequency) {
        PreTokenizer pre = BpeTokenizerWriter.preTokenizer(BpeTokenizerWriter.Style.LLAMA3);
        Map<String, Integer> wordCounts = new LinkedHashMap<>();
        List<String> pieces = new ArrayList<>();
        for (String t : texts) {
            pieces.clear();
            pre.split(t, pieces);
            for (String p : pieces) wordCounts.merge(p, 1, Integer::sum);
        }
        List<String> tokens = new ArrayList<>();
        Map<String, Integer> ids = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteLevel.charOf(b)));
            ids.put(tokens.get(b), b);
        }
        List<List<Integer>> words = new ArrayList<>();
        List<Integer> freq = new ArrayList<>();
        wordCounts.forEach((w, n) -> {
            List<Integer> s = new ArrayList<>();
            for (char ch : w.toCharArray()) s.add(ByteLevel.byteOf(ch));
            words.add(s);
            freq.add(n);
        });
        List<String[]> merges = new ArrayList<>();
        while (tokens.size() < vocabSize) {
            Map<Long, Long> counts = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<Integer> s = words.get(w);
                for (int i = 0; i + 1 < s.size(); i++) counts.merge(((long) s.get(i) << 32) | s.get(i + 1), (long) freq.get(w), Long::sum);
            }
            long best = -1, bestCount = 0;
            for (var e : counts.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && e.getKey() < best)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (bestCount < minFrequency) break;
            int a = (int) (best >>> 32), b = (int) best;
            String text = tokens.get(a) + tokens.get(b);
            int z = ids.computeIfAbsent(text, k -> {
                tokens.add(k);
                return tokens.size() - 1;
            });
            merges.add(new String[]{tokens.get(a), tokens.get(b)});
            for (List<Integer> s : words) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (s.get(i) == a && s.get(i + 1) == b) {
                        s.set(i, z);
                        s.remove(i + 1);
                    }
                }
            }
        }
        return merges;
    }

    @Test
    void learnedTokenizerRoundTripsTextAndCompressesEnglish(@TempDir Path dir) {
        BpeTrainer.Vocabulary v = BpeTrainer.train(count(imdb(1500, false), BpeTokenizerWriter.Style.LLAMA3), 2000, 2);
        assertEquals(2000, v.tokens().size());
        Path file = dir.resolve("tokenizer.json");
        BpeTokenizerWriter.write(file, v.tokens(), v.merges(), List.of("<|begin_of_text|>", "<|end_of_text|>"),
                BpeTokenizerWriter.Style.LLAMA3);
        BpeTokenizer tok = BpeTokenizer.fromTokenizerJson(file);
        assertEquals(2002, tok.vocabSize());
        assertEquals(1, tok.encode(" the").length, "' the' is one token");
        assertEquals(1, tok.encode(" movie").length, "' movie' is one token");
        List<String> heldOut = new ArrayList<>(imdb(200, true));
        heldOut.add("Zürich, São Paulo, 東京 and 😀 — “quotes”, tabs\tand\nnew lines\r\n  indented   spaces");
        heldOut.add("for (int i = 0; i < n; i++) { sum += x[i]; }  // 3.14159 1234567 $12.99");
        long bytes = 0, tokens = 0;
        for (String t : heldOut) {
            int[] ids = tok.encode(t);
            assertEquals(t, tok.decode(ids), "round trip");
            bytes += t.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            tokens += ids.length;
        }
        double bytesPerToken = (double) bytes / tokens;
        assertTrue(bytesPerToken > 2.8, "2000 entries learned on reviews should cover other reviews at > 2.8 bytes per token (3.1 measured), got "
                + bytesPerToken);
        // the special tokens encode as themselves and the template puts BOS first
        assertEquals(2000, tok.encode("x", true)[0]);
        assertEquals(2001, tok.encode("<|end_of_text|>")[0]);
    }
}
