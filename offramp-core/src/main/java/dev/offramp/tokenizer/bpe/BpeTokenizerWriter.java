package dev.offramp.tokenizer.bpe;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.io.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes a byte-level BPE vocabulary as a Hugging Face {@code tokenizer.json} laid out like one of the three
 * families, so that {@link BpeTokenizer}, Hugging Face {@code tokenizers} and transformers all read it.
 */
public final class BpeTokenizerWriter {
    private BpeTokenizerWriter() {}

    /** Split regex of Llama 3 (tiktoken's cl100k pattern without possessive quantifiers): digits in runs of up to 3. */
    public static final String LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Split regex of Qwen 2: as Llama 3's, but every digit alone. */
    public static final String QWEN2_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** Which family's layout to copy. */
    public enum Style {
        /** ByteLevel pre-tokenizer with its built-in regex; merges as "a b" strings; no template. */
        GPT2,
        /** Split(Llama 3 regex) + ByteLevel; ignore_merges; merges as pairs; the first special token as BOS. */
        LLAMA3,
        /** NFC normalizer, Split(Qwen 2 regex) + ByteLevel; merges as "a b" strings; no template. */
        QWEN2
    }

    /** The pre_tokenizer node of a style's tokenizer.json. */
    private static ObjectNode preTokenizerJson(ObjectMapper json, Style style) {
        ObjectNode byteLevel = json.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", style != Style.QWEN2).put("use_regex", style == Style.GPT2);
        if (style == Style.GPT2) return byteLevel;
        ObjectNode seq = json.createObjectNode().put("type", "Sequence");
        ArrayNode steps = seq.putArray("pretokenizers");
        ObjectNode split = steps.addObject().put("type", "Split");
        split.putObject("pattern").put("Regex", style == Style.LLAMA3 ? LLAMA3_PATTERN : QWEN2_PATTERN);
        split.put("behavior", "Isolated").put("invert", false);
        steps.add(byteLevel);
        return seq;
    }

    /** The pre-tokenizer a tokenizer written in this style will use, built from the same JSON. */
    static PreTokenizer preTokenizer(Style style) {
        return PreTokenizer.fromJson(preTokenizerJson(new ObjectMapper(), style), "BpeTokenizerWriter " + style);
    }

    /**
     * @param vocab    vocabulary entries in id order (byte-level characters: see {@link ByteLevel})
     * @param merges   merges in rank order, each two entries whose concatenation is in the vocabulary
     * @param specials special tokens, given the ids after the vocabulary's
     */
    public static void write(Path file, List<String> vocab, List<String[]> merges, List<String> specials, Style style) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < specials.size(); i++) {
            if (!seen.add(specials.get(i)) || vocab.contains(specials.get(i))) {
                throw new IllegalArgumentException("special token '" + specials.get(i) + "' is repeated or in the vocabulary");
            }
            added.addObject().put("id", vocab.size() + i).put("content", specials.get(i)).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        if (style == Style.QWEN2) root.putObject("normalizer").put("type", "NFC");
        else root.putNull("normalizer");

        root.set("pre_tokenizer", preTokenizerJson(json, style));

        ObjectNode byteLevelPost = json.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", true)
                .put("trim_offsets", false).put("use_regex", true);
        if (style == Style.LLAMA3 && !specials.isEmpty()) {
            String bos = specials.get(0);
            ObjectNode seq = root.putObject("post_processor").put("type", "Sequence");
            ArrayNode procs = seq.putArray("processors");
            procs.add(byteLevelPost);
            ObjectNode t = procs.addObject().put("type", "TemplateProcessing");
            ArrayNode single = t.putArray("single");
            single.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            ArrayNode pair = t.putArray("pair");
            pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
            pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 1);
            pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
            ObjectNode st = t.putObject("special_tokens").putObject(bos);
            st.put("id", bos);
            st.putArray("ids").add(vocab.size());
            st.putArray("tokens").add(bos);
        } else {
            root.set("post_processor", byteLevelPost);
        }
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true)
                .put("use_regex", true);

        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        if (style != Style.GPT2) model.put("ignore_merges", style == Style.LLAMA3);
        ObjectNode v = model.putObject("vocab");
        for (int i = 0; i < vocab.size(); i++) {
            if (v.has(vocab.get(i))) throw new IllegalArgumentException("vocabulary entry '" + vocab.get(i) + "' is repeated");
            v.put(vocab.get(i), i);
        }
        ArrayNode ms = model.putArray("merges");
        for (String[] m : merges) {
            if (style == Style.LLAMA3) ms.addArray().add(m[0]).add(m[1]);
            else ms.add(m[0] + " " + m[1]);
        }
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            AtomicFiles.write(file, tmp -> json.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), root));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
