package dev.offramp.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * BERT's WordPiece tokenizer, reproducing the ids of Hugging Face's (Rust) {@code tokenizers} for a tokenizer.json
 * with a BertNormalizer, a BertPreTokenizer, a WordPiece model and a [CLS] A [SEP] (B [SEP]) post-processor.
 *
 * <p>Pipeline per text: split off added tokens ("[MASK]", "[SEP]", ... matched literally, leftmost-longest) ->
 * normalize each remaining piece -> split into words at whitespace, isolate punctuation -> greedy longest-match
 * WordPiece per word ("##" marks a continuation; a word longer than max_input_chars_per_word, or one that cannot be
 * covered, becomes [UNK]) -> truncate -> add [CLS]/[SEP] and type ids.
 *
 * <p>Immutable after construction, so one instance serves any number of threads.
 */
public final class WordPieceTokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String source;               // file or resource it came from, for messages
    private final BasicTokenizer basic;
    private final String[] idToToken;          // (vocabSize) null where an id is unused
    private final Map<String, Integer> tokenToId;
    private final VocabTrie wordStart;         // whole vocabulary
    private final VocabTrie continuation;      // entries starting with the prefix, prefix removed
    private final int maxInputCharsPerWord;
    private final String[] addedTokens;        // matched in raw text, longest first
    private final int[] addedIds;
    private final int unkId, clsId, sepId, padId, maskId;

    private WordPieceTokenizer(String source, BasicTokenizer basic, Map<String, Integer> vocab, String unkToken,
                               String prefix, int maxInputCharsPerWord, Map<String, Integer> added,
                               String clsToken, String sepToken) {
        this.source = source;
        this.basic = basic;
        this.tokenToId = Map.copyOf(vocab);
        int maxId = -1;
        for (int id : vocab.values()) {
            if (id < 0) {
                throw new IllegalArgumentException(source + ": negative token id " + id);
            }
            maxId = Math.max(maxId, id);
        }
        for (int id : added.values()) {
            maxId = Math.max(maxId, id);
        }
        this.idToToken = new String[maxId + 1];
        List<String> keys = new ArrayList<>(vocab.size());
        int[] ids = new int[vocab.size()];
        List<String> contKeys = new ArrayList<>();
        List<Integer> contIds = new ArrayList<>();
        for (var e : vocab.entrySet()) {
            idToToken[e.getValue()] = e.getKey();
            ids[keys.size()] = e.getValue();
            keys.add(e.getKey());
            if (e.getKey().startsWith(prefix) && e.getKey().length() > prefix.length()) {
                contKeys.add(e.getKey().substring(prefix.length()));
                contIds.add(e.getValue());
            }
        }
        for (var e : added.entrySet()) {
            if (idToToken[e.getValue()] == null) {
                idToToken[e.getValue()] = e.getKey();
            }
        }
        this.wordStart = VocabTrie.build(keys, ids);
        this.continuation = VocabTrie.build(contKeys, contIds.stream().mapToInt(Integer::intValue).toArray());
        this.maxInputCharsPerWord = maxInputCharsPerWord;
        this.addedTokens = added.keySet().stream()
                .sorted((a, b) -> Integer.compare(b.length(), a.length())).toArray(String[]::new);
        this.addedIds = Arrays.stream(addedTokens).mapToInt(added::get).toArray();
        this.unkId = requireToken(vocab, added, unkToken, "unk_token");
        this.clsId = requireToken(vocab, added, clsToken, "[CLS] token");
        this.sepId = requireToken(vocab, added, sepToken, "[SEP] token");
        this.padId = optionalToken(vocab, added, "[PAD]");
        this.maskId = optionalToken(vocab, added, "[MASK]");
    }

    // ---------------------------------------------------------------- loading

    /** Loads a Hugging Face tokenizer.json file. */
    public static WordPieceTokenizer fromTokenizerJson(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return fromTokenizerJson(in, file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer " + file + ": " + e.getMessage(), e);
        }
    }

    /** Loads a tokenizer.json from a class-path resource, e.g. "/bge-small-en-v1.5-tokenizer.json". */
    public static WordPieceTokenizer fromResource(String resource) {
        try (InputStream in = WordPieceTokenizer.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no class-path resource " + resource);
            }
            return fromTokenizerJson(in, resource);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer resource " + resource + ": " + e.getMessage(), e);
        }
    }

    /** Loads a tokenizer.json from a stream (not closed); {@code source} names it in error messages. */
    public static WordPieceTokenizer fromTokenizerJson(InputStream in, String source) throws IOException {
        JsonNode root = JSON.readTree(in);
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(source + ": not a tokenizer.json object");
        }
        JsonNode model = root.path("model");
        String modelType = model.path("type").asText(null);
        if (modelType == null && model.has("vocab") && model.has("continuing_subword_prefix")) {
            modelType = "WordPiece"; // old files omit the type
        }
        if (!"WordPiece".equals(modelType)) {
            throw new IllegalArgumentException(source + ": unsupported tokenizer model type " + modelType
                    + " (only WordPiece is supported)");
        }

        JsonNode norm = root.path("normalizer");
        if (!"BertNormalizer".equals(norm.path("type").asText(null))) {
            throw new IllegalArgumentException(source + ": unsupported normalizer " + typeOf(norm)
                    + " (only BertNormalizer is supported)");
        }
        boolean lowercase = norm.path("lowercase").asBoolean(true);
        JsonNode strip = norm.path("strip_accents");
        boolean stripAccents = strip.isBoolean() ? strip.asBoolean() : lowercase; // null means "same as lowercase"
        BasicTokenizer basic = new BasicTokenizer(norm.path("clean_text").asBoolean(true),
                norm.path("handle_chinese_chars").asBoolean(true), stripAccents, lowercase);

        JsonNode pre = root.path("pre_tokenizer");
        if (!"BertPreTokenizer".equals(pre.path("type").asText(null))) {
            throw new IllegalArgumentException(source + ": unsupported pre_tokenizer " + typeOf(pre)
                    + " (only BertPreTokenizer is supported)");
        }

        Map<String, Integer> vocab = new HashMap<>();
        JsonNode vocabNode = model.path("vocab");
        if (!vocabNode.isObject() || vocabNode.isEmpty()) {
            throw new IllegalArgumentException(source + ": model.vocab is missing or empty");
        }
        for (var it = vocabNode.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        String unk = model.path("unk_token").asText("[UNK]");
        String prefix = model.path("continuing_subword_prefix").asText("##");
        int maxChars = model.path("max_input_chars_per_word").asInt(100);

        Map<String, Integer> added = new HashMap<>();
        for (JsonNode t : root.path("added_tokens")) {
            String content = t.path("content").asText();
            if (t.path("normalized").asBoolean(false) || t.path("lstrip").asBoolean(false)
                    || t.path("rstrip").asBoolean(false) || t.path("single_word").asBoolean(false)) {
                throw new IllegalArgumentException(source + ": added token " + content
                        + " uses normalized/lstrip/rstrip/single_word, which is not supported");
            }
            if (content.isEmpty()) {
                throw new IllegalArgumentException(source + ": empty added token with id " + t.path("id").asInt());
            }
            added.put(content, t.path("id").asInt());
        }

        String[] clsSep = readPostProcessor(root.path("post_processor"), source);
        return new WordPieceTokenizer(source, basic, vocab, unk, prefix, maxChars, added, clsSep[0], clsSep[1]);
    }

    /**
     * Loads a BERT vocab.txt (one token per line, id = line number from 0), as Google's BERT and HF's
     * BertTokenizer read it: the BERT normalizer with accents stripped iff lowercased, [PAD] [UNK] [CLS] [SEP] [MASK]
     * as literal special tokens, "##" continuations, 100 characters per word. The file must be valid UTF-8.
     */
    public static WordPieceTokenizer fromVocabTxt(Path file, boolean lowercase) {
        try {
            return fromVocabTxt(Files.readAllBytes(file), lowercase, file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read vocabulary " + file + ": " + e.getMessage(), e);
        }
    }

    /** Like {@link #fromVocabTxt(Path, boolean)} from the file's bytes; {@code source} names it in messages. */
    public static WordPieceTokenizer fromVocabTxt(byte[] utf8, boolean lowercase, String source) {
        String text;
        try {
            text = decodeUtf8Strict(utf8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
        Map<String, Integer> vocab = new HashMap<>();
        int id = 0;
        int start = 0;
        while (start < text.length()) {
            int nl = text.indexOf('\n', start);
            int end = nl < 0 ? text.length() : nl;
            int trimmed = end;
            while (trimmed > start && BasicTokenizer.isWhiteSpace(text.charAt(trimmed - 1))) {
                trimmed--; // HF's WordPiece::read_file trims the line end (\r included)
            }
            // a repeated line takes the later id, as in HF (BERT's own vocabularies have none)
            vocab.put(text.substring(start, trimmed), id);
            id++;
            start = nl < 0 ? text.length() : nl + 1;
        }
        Map<String, Integer> added = new HashMap<>();
        for (String special : new String[] {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
            Integer sid = vocab.get(special);
            if (sid == null) {
                throw new IllegalArgumentException(source + ": vocabulary has no " + special + " token");
            }
            added.put(special, sid);
        }
        BasicTokenizer basic = new BasicTokenizer(true, true, lowercase, lowercase);
        return new WordPieceTokenizer(source, basic, vocab, "[UNK]", "##", 100, added, "[CLS]", "[SEP]");
    }

    /** Returns {cls, sep} token strings after checking the template is BERT's [CLS] A [SEP] (B [SEP]). */
    private static String[] readPostProcessor(JsonNode pp, String source) {
        String type = pp.path("type").asText(null);
        if ("BertProcessing".equals(type)) {
            return new String[] {pp.path("cls").path(0).asText(), pp.path("sep").path(0).asText()};
        }
        if (!"TemplateProcessing".equals(type)) {
            throw new IllegalArgumentException(source + ": unsupported post_processor " + typeOf(pp)
                    + " (only BertProcessing or a [CLS] A [SEP] B [SEP] TemplateProcessing)");
        }
        String single = describeTemplate(pp.path("single"));
        String pair = describeTemplate(pp.path("pair"));
        // e.g. single "[CLS]:0 $A:0 [SEP]:0", pair "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1"
        String[] s = single.split(" ");
        boolean ok = s.length == 3 && s[1].equals("$A:0") && s[0].endsWith(":0") && s[2].endsWith(":0");
        String cls = ok ? s[0].substring(0, s[0].length() - 2) : null;
        String sep = ok ? s[2].substring(0, s[2].length() - 2) : null;
        ok = ok && pair.equals(cls + ":0 $A:0 " + sep + ":0 $B:1 " + sep + ":1");
        if (!ok) {
            throw new IllegalArgumentException(source + ": unsupported TemplateProcessing template single=\"" + single
                    + "\" pair=\"" + pair + "\" (expected [CLS] A [SEP] and [CLS] A [SEP] B [SEP] with type ids 0/1)");
        }
        return new String[] {cls, sep};
    }

    private static String describeTemplate(JsonNode pieces) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode p : pieces) {
            if (!sb.isEmpty()) {
                sb.append(' ');
            }
            if (p.has("SpecialToken")) {
                sb.append(p.path("SpecialToken").path("id").asText()).append(':')
                        .append(p.path("SpecialToken").path("type_id").asInt());
            } else {
                sb.append('$').append(p.path("Sequence").path("id").asText()).append(':')
                        .append(p.path("Sequence").path("type_id").asInt());
            }
        }
        return sb.toString();
    }

    private static String typeOf(JsonNode node) {
        return node.isMissingNode() || node.isNull() ? "null" : node.path("type").asText("(no type)");
    }

    private int requireToken(Map<String, Integer> vocab, Map<String, Integer> added, String token, String what) {
        Integer id = added.containsKey(token) ? added.get(token) : vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException(source + ": " + what + " " + token + " is not in the vocabulary");
        }
        return id;
    }

    private static int optionalToken(Map<String, Integer> vocab, Map<String, Integer> added, String token) {
        Integer id = added.containsKey(token) ? added.get(token) : vocab.get(token);
        return id == null ? -1 : id;
    }

    // ---------------------------------------------------------------- encoding

    /** [CLS] text [SEP], truncated to maxLength tokens (specials included). */
    public Encoding encode(String text, int maxLength) {
        return encode(text, maxLength, Truncation.TRUNCATE);
    }

    /** [CLS] text [SEP] with at most maxLength tokens; STRICT refuses empty or too-long text instead. */
    public Encoding encode(String text, int maxLength, Truncation truncation) {
        Objects.requireNonNull(text, "text is null");
        checkMaxLength(maxLength, 2);
        IntList a = tokenizeToList(text);
        if (truncation == Truncation.STRICT) {
            requireNotEmpty(a, text);
            requireFits(a.size + 2, maxLength);
        }
        int n = Math.min(a.size, maxLength - 2);
        int[] ids = new int[n + 2];
        ids[0] = clsId;
        System.arraycopy(a.data, 0, ids, 1, n);
        ids[n + 1] = sepId;
        return new Encoding(ids, new int[n + 2]);
    }

    /** [CLS] a [SEP] b [SEP] with type ids 0 then 1, truncated longest-first to maxLength tokens. */
    public Encoding encodePair(String a, String b, int maxLength) {
        return encodePair(a, b, maxLength, Truncation.TRUNCATE);
    }

    /** [CLS] a [SEP] b [SEP]; STRICT refuses empty or too-long input instead of truncating. */
    public Encoding encodePair(String a, String b, int maxLength, Truncation truncation) {
        Objects.requireNonNull(a, "first text is null");
        Objects.requireNonNull(b, "second text is null");
        checkMaxLength(maxLength, 3);
        IntList ta = tokenizeToList(a);
        IntList tb = tokenizeToList(b);
        if (truncation == Truncation.STRICT) {
            requireNotEmpty(ta, a);
            requireNotEmpty(tb, b);
            requireFits(ta.size + tb.size + 3, maxLength);
        }
        // HF truncate_encodings, LongestFirst: shorter one keeps what it can of an even share, longer takes the rest.
        int budget = maxLength - 3;
        int n1 = ta.size;
        int n2 = tb.size;
        if (n1 + n2 > budget) {
            boolean swap = n1 > n2;
            int shorter = Math.min(n1, n2);
            int longer;
            if (shorter > budget) {
                longer = shorter;
            } else {
                longer = Math.max(shorter, budget - shorter);
            }
            if (shorter + longer > budget) {
                shorter = budget / 2;
                longer = shorter + budget % 2;
            }
            n1 = swap ? longer : shorter;
            n2 = swap ? shorter : longer;
        }
        int[] ids = new int[n1 + n2 + 3];
        int[] types = new int[n1 + n2 + 3];
        ids[0] = clsId;
        System.arraycopy(ta.data, 0, ids, 1, n1);
        ids[n1 + 1] = sepId;
        System.arraycopy(tb.data, 0, ids, n1 + 2, n2);
        ids[n1 + n2 + 2] = sepId;
        Arrays.fill(types, n1 + 2, types.length, 1);
        return new Encoding(ids, types);
    }

    /**
     * What the CLI checks before tokenizing user input: null is a programming error, empty or whitespace-only text
     * is a user error.
     */
    public static String validate(String text) {
        Objects.requireNonNull(text, "text is null");
        if (text.codePoints().allMatch(cp -> (BasicTokenizer.flags(cp)
                & (BasicTokenizer.SPLIT_SPACE | BasicTokenizer.CLEAN_SPACE)) != 0)) {
            throw new IllegalArgumentException("empty text");
        }
        return text;
    }

    /** WordPiece ids of text, without [CLS]/[SEP] and without truncation. */
    public int[] tokenize(String text) {
        Objects.requireNonNull(text, "text is null");
        IntList list = tokenizeToList(text);
        return Arrays.copyOf(list.data, list.size);
    }

    private IntList tokenizeToList(String text) {
        IntList out = new IntList(text.length() / 3 + 8);
        int pieceStart = 0;
        int i = 0;
        int n = text.length();
        while (i < n) {
            int match = addedTokenAt(text, i);
            if (match < 0) {
                i++;
                continue;
            }
            if (i > pieceStart) {
                tokenizePiece(text, pieceStart, i, out);
            }
            out.add(addedIds[match]);
            i += addedTokens[match].length();
            pieceStart = i;
        }
        if (n > pieceStart) {
            tokenizePiece(text, pieceStart, n, out);
        }
        return out;
    }

    /** Index into addedTokens of the longest one starting at text[i], or -1. */
    private int addedTokenAt(String text, int i) {
        char c = text.charAt(i);
        for (int k = 0; k < addedTokens.length; k++) {
            String t = addedTokens[k];
            if (t.charAt(0) == c && text.startsWith(t, i)) {
                return k; // sorted longest first
            }
        }
        return -1;
    }

    /** Normalizes text[from, to), splits it into words and appends their WordPiece ids. */
    private void tokenizePiece(String text, int from, int to, IntList out) {
        StringBuilder normalized = basic.normalize(text, from, to);
        int len = normalized.length();
        char[] s = new char[len];
        normalized.getChars(0, len, s, 0);
        int wordStart = -1;
        for (int i = 0; i < len; ) {
            int cp = Character.codePointAt(s, i, len);
            int next = i + Character.charCount(cp);
            int f = BasicTokenizer.flags(cp);
            if ((f & (BasicTokenizer.SPLIT_SPACE | BasicTokenizer.PUNCT)) != 0) {
                if (wordStart >= 0) {
                    wordPiece(s, wordStart, i, out);
                    wordStart = -1;
                }
                if ((f & BasicTokenizer.PUNCT) != 0) {
                    wordPiece(s, i, next, out); // punctuation is a word of its own
                }
            } else if (wordStart < 0) {
                wordStart = i;
            }
            i = next;
        }
        if (wordStart >= 0) {
            wordPiece(s, wordStart, len, out);
        }
    }

    /** Greedy longest-match-first WordPiece of one word s[from, to); all [UNK] if any part cannot be matched. */
    private void wordPiece(char[] s, int from, int to, IntList out) {
        if (to - from > maxInputCharsPerWord && Character.codePointCount(s, from, to - from) > maxInputCharsPerWord) {
            out.add(unkId);
            return;
        }
        int mark = out.size;
        int start = from;
        VocabTrie trie = wordStart;
        while (start < to) {
            long match = trie.longestPrefix(s, start, to);
            if (match < 0) {
                out.size = mark;
                out.add(unkId);
                return;
            }
            out.add((int) match);
            start = (int) (match >>> 32);
            trie = continuation;
        }
    }

    // ---------------------------------------------------------------- vocabulary

    /** The token string of an id, or throws if the id is outside the vocabulary. */
    public String token(int id) {
        if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
            throw new IllegalArgumentException("token id " + id + " is not in the vocabulary of " + source
                    + " (size " + idToToken.length + ")");
        }
        return idToToken[id];
    }

    /** The id of a token string (exact, no normalization), or -1 if it is not in the vocabulary. */
    public int id(String token) {
        Integer id = tokenToId.get(token);
        if (id != null) {
            return id;
        }
        for (int k = 0; k < addedTokens.length; k++) {
            if (addedTokens[k].equals(token)) {
                return addedIds[k];
            }
        }
        return -1;
    }

    /** Number of ids (largest id + 1): the embedding matrix must have at least this many rows. */
    public int vocabSize() {
        return idToToken.length;
    }

    /** [PAD] id, or -1 if the vocabulary has none. */
    public int padId() {
        return padId;
    }

    public int clsId() {
        return clsId;
    }

    public int sepId() {
        return sepId;
    }

    public int unkId() {
        return unkId;
    }

    /** [MASK] id, or -1 if the vocabulary has none. */
    public int maskId() {
        return maskId;
    }

    @Override
    public String toString() {
        return "WordPieceTokenizer[" + source + ", vocab " + idToToken.length + ", lowercase " + basic.lowercase
                + ", stripAccents " + basic.stripAccents + "]";
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Decodes UTF-8, refusing malformed input (Java's default decoding silently substitutes U+FFFD, which the
     * normalizer would then drop, changing the text without a word).
     *
     * @throws IllegalArgumentException naming the byte offset of the first malformed sequence
     */
    public static String decodeUtf8Strict(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isUnderflow()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            int at = in.position();
            StringBuilder hex = new StringBuilder();
            for (int k = at; k < Math.min(bytes.length, at + result.length()); k++) {
                hex.append(String.format(" %02x", bytes[k] & 0xFF));
            }
            throw new IllegalArgumentException("invalid UTF-8 at byte offset " + at + ": malformed sequence of "
                    + result.length() + " byte(s):" + hex);
        }
        if (result.isOverflow()) {
            throw new IllegalStateException("UTF-8 decoding overflowed its buffer (" + bytes.length + " bytes)");
        }
        out.flip();
        return out.toString();
    }

    private static void checkMaxLength(int maxLength, int specials) {
        if (maxLength < specials) {
            throw new IllegalArgumentException("maxLength " + maxLength + " leaves no room for the " + specials
                    + " special tokens");
        }
    }

    private static void requireNotEmpty(IntList tokens, String text) {
        if (tokens.size == 0) {
            throw new IllegalArgumentException(text.isEmpty() ? "empty text"
                    : "empty text (no tokens after normalization: \"" + text + "\")");
        }
    }

    private static void requireFits(int total, int maxLength) {
        if (total > maxLength) {
            throw new InputTooLongException(total, maxLength);
        }
    }

    /** Growable int array for one call's ids; never shared. */
    private static final class IntList {
        int[] data;
        int size;

        IntList(int capacity) {
            data = new int[Math.max(capacity, 8)];
        }

        void add(int v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }
    }
}
