package dev.offramp.tokenizer.bpe;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Learns a byte-level BPE vocabulary from text, for a tokenizer written with {@link BpeTokenizerWriter} and read
 * by {@link BpeTokenizer}: the text is cut into words by the pre-tokenizer of the chosen tokenizer style (so words
 * are exactly the pieces the tokenizer will encode), each word starts as its UTF-8 bytes (ids 0..255, the first
 * 256 vocabulary entries), and the most frequent adjacent pair, counted over all words weighted by how often each
 * word occurs, is merged into a new token until the vocabulary is full.
 *
 * <p>Counting is incremental, as in Hugging Face's {@code tokenizers} trainer: pair counts are built once; merging
 * a pair rewrites only the words that contain it (found through a per-pair list of words) and adjusts the counts of
 * the pairs around each occurrence; a max-heap of (count, pair) is corrected lazily (an entry whose count is stale
 * is re-queued with the current count when it surfaces). Ties go to the smaller pair of ids, so the result is a
 * function of the input alone. A merge whose result is already a token (two ways to spell the same bytes) reuses
 * that token, as Hugging Face does.
 */
public final class BpeTrainer {
    private BpeTrainer() {}

    /** Vocabulary entries in id order (byte-level characters) and merges in rank order. */
    public record Vocabulary(List<String> tokens, List<String[]> merges) {}

    /** Words (pieces) and how often each occurs, in first-seen order. */
    public static final class WordCounts {
        private final PreTokenizer preTokenizer;
        private final boolean nfc;
        private final Map<String, long[]> counts = new LinkedHashMap<>();
        private final List<String> pieces = new ArrayList<>();
        private long characters;

        /** Counts words as a tokenizer of this style will cut them. */
        public WordCounts(BpeTokenizerWriter.Style style) {
            this.preTokenizer = BpeTokenizerWriter.preTokenizer(style);
            this.nfc = style == BpeTokenizerWriter.Style.QWEN2;
        }

        public void add(String text) {
            if (nfc) text = Normalizer.normalize(text, Normalizer.Form.NFC);
            characters += text.length();
            pieces.clear();
            preTokenizer.split(text, pieces);
            for (String p : pieces) counts.computeIfAbsent(p, k -> new long[1])[0]++;
        }

        /** Distinct words so far. */
        public int distinct() {
            return counts.size();
        }

        /** Characters of text added so far. */
        public long characters() {
            return characters;
        }
    }

    /**
     * Merges until the vocabulary has {@code vocabSize} entries (256 bytes plus merged tokens; special tokens come
     * on top of it) or no pair occurs {@code minFrequency} times.
     */
    public static Vocabulary train(WordCounts words, int vocabSize, int minFrequency) {
        if (vocabSize < 256 || vocabSize > 1 << 16) {
            throw new IllegalArgumentException("vocabSize must be in 256..65536 (bytes plus merges), got " + vocabSize);
        }
        if (minFrequency < 1) throw new IllegalArgumentException("minFrequency must be >= 1, got " + minFrequency);
        return new Run(words, minFrequency).merge(vocabSize);
    }

    /** The state of one training run. */
    private static final class Run {
        final int minFrequency;
        final int[][] syms;       // per word, its current symbols (ids)
        final int[] len;          // per word, how many of syms are in use
        final long[] freq;        // per word, occurrences in the text
        final int[] stamp;        // per word, the last merge that rewrote it (so a duplicate listing is skipped)
        final Map<Long, long[]> pairCount = new HashMap<>();
        final Map<Long, IntList> pairWords = new HashMap<>();   // words holding the pair (may repeat, may be stale)
        final PriorityQueue<long[]> queue = new PriorityQueue<>(Run::compare);   // {count, pair}
        final List<String> tokens = new ArrayList<>();
        final Map<String, Integer> ids = new HashMap<>();
        final List<String[]> merges = new ArrayList<>();

        Run(WordCounts words, int minFrequency) {
            this.minFrequency = minFrequency;
            for (int b = 0; b < 256; b++) {
                String t = String.valueOf(ByteLevel.charOf(b));
                tokens.add(t);
                ids.put(t, b);
            }
            int n = words.counts.size();
            syms = new int[n][];
            len = new int[n];
            freq = new long[n];
            stamp = new int[n];
            Arrays.fill(stamp, -1);
            int w = 0;
            for (var e : words.counts.entrySet()) {
                String word = e.getKey();
                int[] s = new int[word.length()];
                for (int i = 0; i < s.length; i++) {
                    int b = ByteLevel.byteOf(word.charAt(i));
                    if (b < 0) throw new IllegalStateException("pre-tokenizer gave a non-byte-level piece: " + word);
                    s[i] = b;
                }
                syms[w] = s;
                len[w] = s.length;
                freq[w] = e.getValue()[0];
                for (int i = 0; i + 1 < s.length; i++) add(pair(s[i], s[i + 1]), freq[w], w);
                w++;
            }
            for (var e : pairCount.entrySet()) push(e.getKey(), e.getValue()[0]);
        }

        static long pair(int a, int b) {
            return ((long) a << 32) | b;
        }

        /** Higher count first, then the smaller pair. */
        static int compare(long[] x, long[] y) {
            int c = Long.compare(y[0], x[0]);
            return c != 0 ? c : Long.compare(x[1], y[1]);
        }

        void push(long pair, long count) {
            if (count >= minFrequency) queue.add(new long[]{count, pair});
        }

        /** count(pair) += delta; a positive delta lists word w under the pair. */
        void add(long pair, long delta, int w) {
            pairCount.computeIfAbsent(pair, k -> new long[1])[0] += delta;
            if (delta > 0) pairWords.computeIfAbsent(pair, k -> new IntList()).add(w);
        }

        Vocabulary merge(int vocabSize) {
            java.util.Set<Long> grown = new java.util.HashSet<>();
            while (tokens.size() < vocabSize && !queue.isEmpty()) {
                long[] top = queue.poll();
                long pair = top[1];
                long[] current = pairCount.get(pair);
                if (current[0] != top[0]) {   // stale entry: the pair's count changed since it was queued
                    push(pair, current[0]);
                    continue;
                }
                int a = (int) (pair >>> 32), b = (int) pair;
                String text = tokens.get(a) + tokens.get(b);
                Integer z = ids.get(text);
                if (z == null) {
                    z = tokens.size();
                    tokens.add(text);
                    ids.put(text, z);
                }
                int mergeIndex = merges.size();
                merges.add(new String[]{tokens.get(a), tokens.get(b)});
                grown.clear();
                IntList holders = pairWords.remove(pair);
                for (int k = 0; k < holders.size(); k++) {
                    int w = holders.get(k);
                    if (stamp[w] == mergeIndex) continue;
                    stamp[w] = mergeIndex;
                    rewrite(w, a, b, z, grown);
                }
                current[0] = 0;
                for (long p : grown) push(p, pairCount.get(p)[0]);
            }
            return new Vocabulary(List.copyOf(tokens), List.copyOf(merges));
        }

        /** Replaces every (a, b) in word w by z, left to right, adjusting the counts of the neighbouring pairs. */
        void rewrite(int w, int a, int b, int z, java.util.Set<Long> grown) {
            int[] s = syms[w];
            int n = len[w], out = 0;
            long f = freq[w];
            for (int i = 0; i < n; ) {
                if (i + 1 < n && s[i] == a && s[i + 1] == b) {
                    if (out > 0) {   // the symbol before, as already rewritten (it may be a z just made)
                        add(pair(s[out - 1], a), -f, w);
                        long p = pair(s[out - 1], z);
                        add(p, f, w);
                        grown.add(p);
                    }
                    if (i + 2 < n) {
                        add(pair(b, s[i + 2]), -f, w);
                        long p = pair(z, s[i + 2]);
                        add(p, f, w);
                        grown.add(p);
                    }
                    s[out++] = z;
                    i += 2;
                } else {
                    s[out++] = s[i++];
                }
            }
            len[w] = out;
        }
    }
}
