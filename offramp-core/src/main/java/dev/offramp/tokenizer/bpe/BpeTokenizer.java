package dev.offramp.tokenizer.bpe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A byte-level BPE tokenizer as in GPT-2, Llama 3 and Qwen 2, read from a Hugging Face {@code tokenizer.json} and
 * reproducing the ids of Hugging Face's (Rust) {@code tokenizers}.
 *
 * <p>Encoding: cut out added tokens ({@link AddedTokens}) → normalize the rest ({@link TextNormalizer}) →
 * pre-tokenize ({@link PreTokenizer}: the file's Split regex, then ByteLevel maps UTF-8 bytes to characters) →
 * BPE merges per piece ({@link BpeModel}) → optionally the post-processor's template (Llama 3's
 * {@code <|begin_of_text|>}). Decoding maps each token's characters back to bytes and reads them as UTF-8.
 *
 * <p>Anything outside that family (a WordPiece or Unigram model, a Metaspace pre-tokenizer, a BERT post-processor,
 * continuing-subword prefixes, BPE dropout) is refused with a message naming it. Immutable, so one instance
 * serves many threads.
 */
public final class BpeTokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String source;
    private final BpeModel model;
    private final AddedTokens added;
    private final UnaryOperator<String> normalizer;
    private final PreTokenizer preTokenizer;
    /** The single-sequence template: ids to put before and after the text's ids (empty: none). */
    private final int[] prefixIds, suffixIds;
    private final String[] idToToken;     // model vocabulary and added tokens
    private final byte[][] idToBytes;     // what each id decodes to
    private final boolean[] special;
    private final Map<String, Integer> addedByContent = new HashMap<>();

    private BpeTokenizer(String source, BpeModel model, AddedTokens added, UnaryOperator<String> normalizer,
                         PreTokenizer preTokenizer, int[] prefixIds, int[] suffixIds) {
        this.source = source;
        this.model = model;
        this.added = added;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.prefixIds = prefixIds;
        this.suffixIds = suffixIds;
        int size = model.vocabSize();
        for (AddedTokens.Token t : added.all()) size = Math.max(size, t.id() + 1);
        idToToken = new String[size];
        idToBytes = new byte[size][];
        special = new boolean[size];
        for (int id = 0; id < model.vocabSize(); id++) idToToken[id] = model.token(id);
        for (AddedTokens.Token t : added.all()) {
            idToToken[t.id()] = t.content();
            special[t.id()] = t.special();
            addedByContent.put(t.content(), t.id());
        }
        for (int id = 0; id < size; id++) {
            if (idToToken[id] == null) continue;
            // Hugging Face's ByteLevel decoder: a token whose characters are all byte characters is those bytes,
            // any other (an added token such as "<|endoftext|>" with a space in it) its own UTF-8
            byte[] b = ByteLevel.decode(idToToken[id]);
            idToBytes[id] = b != null ? b : idToToken[id].getBytes(StandardCharsets.UTF_8);
        }
    }

    // ---------------------------------------------------------------- loading

    /** Loads a Hugging Face tokenizer.json file. */
    public static BpeTokenizer fromTokenizerJson(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return fromTokenizerJson(in, file.toString());
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("file not found: " + file, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer " + file + ": " + e.getMessage(), e);
        }
    }

    /** Loads a tokenizer.json from a stream (not closed); {@code source} names it in error messages. */
    public static BpeTokenizer fromTokenizerJson(InputStream in, String source) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(in);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": not JSON (" + e.getOriginalMessage() + ")", e);
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(source + ": not a tokenizer.json object");
        JsonNode m = root.path("model");
        String type = m.path("type").asText(null);
        if (type == null && m.has("merges")) type = "BPE";   // old files omit the type
        if (!"BPE".equals(type)) {
            throw new IllegalArgumentException(source + ": unsupported tokenizer model type '" + type
                    + "' (only byte-level BPE is supported here; WordPiece files go to WordPieceTokenizer)");
        }
        if (!m.path("dropout").isNull() && !m.path("dropout").isMissingNode() && m.path("dropout").asDouble() != 0) {
            throw new IllegalArgumentException(source + ": BPE dropout " + m.path("dropout") + " is not supported");
        }
        for (String field : new String[]{"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (!m.path(field).asText("").isEmpty()) {
                throw new IllegalArgumentException(source + ": BPE " + field + " '" + m.path(field).asText()
                        + "' is not supported (byte-level BPE has none)");
            }
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        JsonNode v = m.path("vocab");
        if (!v.isObject() || v.isEmpty()) throw new IllegalArgumentException(source + ": model.vocab is missing or empty");
        for (var it = v.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().canConvertToInt()) {
                throw new IllegalArgumentException(source + ": vocab entry '" + e.getKey() + "' has id " + e.getValue());
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        List<String[]> merges = readMerges(m.path("merges"), source);

        List<AddedTokens.Token> addedTokens = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            String content = t.path("content").asText(null);
            if (content == null || !t.path("id").canConvertToInt()) {
                throw new IllegalArgumentException(source + ": added token without content or id: " + t);
            }
            boolean isSpecial = t.path("special").asBoolean(false);
            addedTokens.add(new AddedTokens.Token(content, t.get("id").asInt(), isSpecial,
                    t.path("single_word").asBoolean(false), t.path("lstrip").asBoolean(false),
                    t.path("rstrip").asBoolean(false), t.path("normalized").asBoolean(!isSpecial)));
        }
        int unkId = -1;
        String unk = m.path("unk_token").asText(null);
        if (unk != null && !m.path("unk_token").isNull()) {
            Integer id = vocab.get(unk);
            if (id == null) {
                for (AddedTokens.Token t : addedTokens) if (t.content().equals(unk)) id = t.id();
            }
            if (id == null) throw new IllegalArgumentException(source + ": unk_token '" + unk + "' is not in the vocabulary");
            unkId = id;
        }
        BpeModel model = new BpeModel(source, vocab, merges, m.path("ignore_merges").asBoolean(false),
                m.path("byte_fallback").asBoolean(false), unkId, m.path("fuse_unk").asBoolean(false));

        UnaryOperator<String> normalizer = TextNormalizer.fromJson(root.get("normalizer"), source);
        PreTokenizer pre = PreTokenizer.fromJson(root.get("pre_tokenizer"), source);
        if (pre == null || !pre.byteLevel()) {
            throw new IllegalArgumentException(source + ": the pre-tokenizer has no ByteLevel step (found "
                    + typeOf(root.get("pre_tokenizer")) + "); only byte-level BPE (GPT-2, Llama 3, Qwen 2) is supported");
        }
        checkDecoder(root.get("decoder"), source);
        List<Integer> prefix = new ArrayList<>(), suffix = new ArrayList<>();
        readPostProcessor(root.get("post_processor"), source, prefix, suffix);
        return new BpeTokenizer(source, model, new AddedTokens(addedTokens), normalizer, pre,
                prefix.stream().mapToInt(Integer::intValue).toArray(), suffix.stream().mapToInt(Integer::intValue).toArray());
    }

    /** Merges as "a b" strings (older files) or ["a", "b"] pairs (tokenizers ≥ 0.20). */
    private static List<String[]> readMerges(JsonNode node, String source) {
        if (!node.isArray()) throw new IllegalArgumentException(source + ": model.merges is missing or not a list");
        List<String[]> merges = new ArrayList<>(node.size());
        for (JsonNode e : node) {
            if (e.isTextual()) {
                String s = e.asText();
                int sp = s.indexOf(' ');
                if (sp <= 0 || sp == s.length() - 1 || s.indexOf(' ', sp + 1) >= 0) {
                    throw new IllegalArgumentException(source + ": merge " + merges.size() + " '" + s
                            + "' is not two tokens separated by one space");
                }
                merges.add(new String[]{s.substring(0, sp), s.substring(sp + 1)});
            } else if (e.isArray() && e.size() == 2 && e.get(0).isTextual() && e.get(1).isTextual()) {
                merges.add(new String[]{e.get(0).asText(), e.get(1).asText()});
            } else {
                throw new IllegalArgumentException(source + ": merge " + merges.size() + " is " + e
                        + ", neither \"a b\" nor [\"a\", \"b\"]");
            }
        }
        return merges;
    }

    private static void checkDecoder(JsonNode node, String source) {
        if (node == null || node.isNull()) return;   // decode as byte level anyway: the pre-tokenizer is
        String type = node.path("type").asText("");
        if (type.equals("ByteLevel")) return;
        if (type.equals("Sequence")) {
            for (JsonNode d : node.path("decoders")) checkDecoder(d, source);
            return;
        }
        throw new IllegalArgumentException(source + ": unsupported decoder type '" + type + "' (supported: ByteLevel)");
    }

    /** The single-sequence template: special tokens before and after "A". Pair templates are not used here. */
    private static void readPostProcessor(JsonNode node, String source, List<Integer> prefix, List<Integer> suffix) {
        if (node == null || node.isNull()) return;
        String type = node.path("type").asText("");
        switch (type) {
            case "ByteLevel" -> { }   // offsets only
            case "Sequence" -> {
                for (JsonNode p : node.path("processors")) readPostProcessor(p, source, prefix, suffix);
            }
            case "TemplateProcessing" -> {
                JsonNode specials = node.path("special_tokens");
                boolean seenA = false;
                for (JsonNode item : node.path("single")) {
                    if (item.has("Sequence")) {
                        if (!item.get("Sequence").path("id").asText().equals("A") || seenA) {
                            throw new IllegalArgumentException(source + ": TemplateProcessing single template "
                                    + node.path("single") + " is not one sequence A with special tokens around it");
                        }
                        seenA = true;
                    } else if (item.has("SpecialToken")) {
                        String id = item.get("SpecialToken").path("id").asText();
                        JsonNode ids = specials.path(id).path("ids");
                        if (!ids.isArray() || ids.isEmpty()) {
                            throw new IllegalArgumentException(source + ": TemplateProcessing uses special token '" + id
                                    + "' but special_tokens gives it no ids");
                        }
                        for (JsonNode i : ids) (seenA ? suffix : prefix).add(i.asInt());
                    } else {
                        throw new IllegalArgumentException(source + ": TemplateProcessing item " + item + " not understood");
                    }
                }
            }
            default -> throw new IllegalArgumentException(source + ": unsupported post-processor type '" + type
                    + "' (supported: TemplateProcessing, ByteLevel, Sequence)");
        }
    }

    private static String typeOf(JsonNode n) {
        return n == null || n.isNull() ? "none" : "'" + n.path("type").asText("?") + "'";
    }

    // ---------------------------------------------------------------- encoding

    /** The ids of text, without the post-processor's special tokens. */
    public int[] encode(String text) {
        return encode(text, false);
    }

    /**
     * The ids of text. Added tokens written in the text ("<|endoftext|>") become their ids, as in Hugging Face's
     * default. With {@code addSpecialTokens} the post-processor's template is applied (Llama 3 puts
     * {@code <|begin_of_text|>} first; GPT-2 and Qwen 2 add nothing).
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        IntList out = new IntList();
        if (addSpecialTokens) out.addAll(prefixIds);
        List<String> pieces = new ArrayList<>();
        for (AddedTokens.Segment s : added.split(text, normalizer)) {
            if (s.text() == null) {
                out.add(s.id());
                continue;
            }
            pieces.clear();
            preTokenizer.split(s.text(), pieces);
            for (String p : pieces) model.encodeWord(p, out);
        }
        if (addSpecialTokens) out.addAll(suffixIds);
        return out.toArray();
    }

    // ---------------------------------------------------------------- decoding

    /** The text of ids, special tokens included. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /** The text of ids; invalid UTF-8 (a sequence cut in the middle of a character) becomes U+FFFD. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            if (skipSpecialTokens && isSpecial(id)) continue;
            bytes.writeBytes(tokenBytes(id));
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The bytes token id stands for (a new array). */
    public byte[] tokenBytes(int id) {
        checkId(id);
        return idToBytes[id].clone();
    }

    /** A decoder for a stream of ids that only lets out whole characters (an emoji may span several tokens). */
    public StreamDecoder newStreamDecoder(boolean skipSpecialTokens) {
        return new StreamDecoder(this, skipSpecialTokens);
    }

    // ---------------------------------------------------------------- vocabulary

    /** One more than the largest id (vocabulary and added tokens). */
    public int vocabSize() {
        return idToToken.length;
    }

    /** The vocabulary entry (byte-level characters) or added token of id. */
    public String token(int id) {
        checkId(id);
        return idToToken[id];
    }

    /** The id of a vocabulary entry or added token, or -1. */
    public int id(String token) {
        Integer a = addedByContent.get(token);
        return a != null ? a : model.id(token);
    }

    /** Whether id is an added token marked special ({@code <|endoftext|>}); decoding can skip these. */
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    /** The ids the post-processor puts before the text (Llama 3: {@code <|begin_of_text|>}); maybe empty. */
    public int[] prefixIds() {
        return prefixIds.clone();
    }

    /** The file it was read from. */
    public String source() {
        return source;
    }

    private void checkId(int id) {
        if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
            throw new IllegalArgumentException("token id " + id + " is not in the vocabulary of " + source
                    + " (" + idToToken.length + " ids)");
        }
    }
}
