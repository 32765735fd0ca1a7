package dev.offramp.tokenizer.bpe;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model of a tokenizer.json ({@code "model": {"type": "BPE", ...}}): a vocabulary and ranked merges.
 * A word (one pre-tokenized piece, already in byte-level characters) starts as one symbol per character, then the
 * adjacent pair of lowest merge rank is merged, leftmost first on equal rank, until no adjacent pair has a merge:
 * Hugging Face's algorithm (a priority queue over pair positions, stale entries skipped), O(n log n) per word.
 *
 * <p>With {@code ignoreMerges} (Llama 3) a word that is itself in the vocabulary is one token without merging. A
 * character missing from the vocabulary becomes its UTF-8 bytes as {@code <0xXX>} tokens when
 * {@code byteFallback} is set and they exist, else the unknown token, else it is dropped (as Hugging Face does).
 * Immutable apart from a bounded word cache, so one instance serves many threads.
 */
final class BpeModel {
    /** Words longer than this are not cached (long whitespace or digit runs would fill the cache). */
    private static final int CACHE_MAX_WORD = 64, CACHE_MAX_ENTRIES = 100_000;

    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    /** (left id, right id) → rank in the high 32 bits, merged id in the low 32 bits. */
    private final Map<Long, Long> merges;
    private final boolean ignoreMerges, byteFallback, fuseUnk;
    private final int unkId;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param merges pairs in rank order (rank 0 first); each side and their concatenation must be in the vocabulary
     * @param unkId  id of the unknown token, or -1
     */
    BpeModel(String source, Map<String, Integer> vocab, List<String[]> merges, boolean ignoreMerges,
             boolean byteFallback, int unkId, boolean fuseUnk) {
        this.vocab = Map.copyOf(vocab);
        int maxId = -1;
        for (var e : vocab.entrySet()) {
            if (e.getValue() < 0) throw new IllegalArgumentException(source + ": token '" + e.getKey() + "' has negative id " + e.getValue());
            maxId = Math.max(maxId, e.getValue());
        }
        idToToken = new String[maxId + 1];
        for (var e : vocab.entrySet()) {
            if (idToToken[e.getValue()] != null) {
                throw new IllegalArgumentException(source + ": id " + e.getValue() + " is given to both '"
                        + idToToken[e.getValue()] + "' and '" + e.getKey() + "'");
            }
            idToToken[e.getValue()] = e.getKey();
        }
        this.merges = new HashMap<>(2 * merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] m = merges.get(rank);
            Integer a = vocab.get(m[0]), b = vocab.get(m[1]), ab = vocab.get(m[0] + m[1]);
            if (a == null || b == null || ab == null) {
                String missing = a == null ? m[0] : b == null ? m[1] : m[0] + m[1];
                throw new IllegalArgumentException(source + ": merge " + rank + " ('" + m[0] + "' '" + m[1]
                        + "') uses '" + missing + "', which is not in the vocabulary");
            }
            // a repeated pair keeps its first (best) rank, as a lookup table built front to back would not
            this.merges.putIfAbsent(pair(a, b), ((long) rank << 32) | ab);
        }
        this.ignoreMerges = ignoreMerges;
        this.byteFallback = byteFallback;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
    }

    int vocabSize() {
        return idToToken.length;
    }

    /** The vocabulary entry of id, or null when the id is unused. */
    String token(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    /** The id of a vocabulary entry, or -1. */
    int id(String token) {
        Integer id = vocab.get(token);
        return id == null ? -1 : id;
    }

    private static long pair(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    /** Appends the ids of one word (byte-level characters). */
    void encodeWord(String word, IntList out) {
        if (word.isEmpty()) return;
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        boolean cacheable = word.length() <= CACHE_MAX_WORD;
        if (cacheable) {
            int[] hit = cache.get(word);
            if (hit != null) {
                out.addAll(hit);
                return;
            }
        }
        int[] ids = merge(word);
        if (cacheable) {
            if (cache.size() >= CACHE_MAX_ENTRIES) cache.clear();
            cache.put(word, ids);
        }
        out.addAll(ids);
    }

    /** One symbol per character (code point), then the merges. */
    private int[] merge(String word) {
        int n = word.codePointCount(0, word.length());
        int[] sym = new int[n];
        int count = 0;
        boolean lastWasUnk = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            String ch = word.substring(i, i + Character.charCount(cp));
            i += ch.length();
            Integer id = vocab.get(ch);
            if (id != null) {
                sym = grow(sym, count + 1);
                sym[count++] = id;
                lastWasUnk = false;
                continue;
            }
            if (byteFallback) {
                byte[] bytes = ch.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                int[] fb = new int[bytes.length];
                boolean all = true;
                for (int k = 0; k < bytes.length && all; k++) {
                    Integer b = vocab.get(String.format("<0x%02X>", bytes[k] & 0xFF));
                    if (b == null) all = false;
                    else fb[k] = b;
                }
                if (all) {
                    sym = grow(sym, count + fb.length);
                    for (int f : fb) sym[count++] = f;
                    lastWasUnk = false;
                    continue;
                }
            }
            if (unkId >= 0) {
                if (!(fuseUnk && lastWasUnk)) {
                    sym = grow(sym, count + 1);
                    sym[count++] = unkId;
                }
                lastWasUnk = true;
            }
            // no unknown token: the character is dropped, as Hugging Face does
        }
        return mergeSymbols(sym, count);
    }

    private static int[] grow(int[] a, int need) {
        return need <= a.length ? a : java.util.Arrays.copyOf(a, Math.max(need, 2 * a.length));
    }

    /** Merges symbols [0, n) in place as a doubly linked list; returns the surviving ids in order. */
    private int[] mergeSymbols(int[] id, int n) {
        if (n <= 1) return java.util.Arrays.copyOf(id, n);
        int[] prev = new int[n], next = new int[n];
        boolean[] gone = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        // entries: rank in the high bits, position in the low bits, so the smallest is the best merge, leftmost first
        PriorityQueue<Long> queue = new PriorityQueue<>();
        for (int i = 0; i + 1 < n; i++) {
            Long m = merges.get(pair(id[i], id[i + 1]));
            if (m != null) queue.add((m >>> 32) << 32 | i);
        }
        int alive = n;
        while (!queue.isEmpty()) {
            long top = queue.poll();
            int pos = (int) (top & 0xFFFFFFFFL), rank = (int) (top >>> 32);
            if (gone[pos] || next[pos] < 0) continue;
            int right = next[pos];
            Long m = merges.get(pair(id[pos], id[right]));
            if (m == null || (int) (m >>> 32) != rank) continue;   // stale: one side has changed since
            id[pos] = (int) (m & 0xFFFFFFFFL);
            gone[right] = true;
            alive--;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            if (prev[pos] >= 0) {
                Long left = merges.get(pair(id[prev[pos]], id[pos]));
                if (left != null) queue.add((left >>> 32) << 32 | prev[pos]);
            }
            if (next[pos] >= 0) {
                Long after = merges.get(pair(id[pos], id[next[pos]]));
                if (after != null) queue.add((after >>> 32) << 32 | pos);
            }
        }
        int[] out = new int[alive];
        for (int i = 0, k = 0; i >= 0 && k < alive; i = next[i]) out[k++] = id[i];
        return out;
    }
}
