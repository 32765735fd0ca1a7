package dev.offramp.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads a Hugging Face BERT folder: {@code config.json} (model_type "bert"), {@code model.safetensors} and,
 * when present, {@code tokenizer.json}, else {@code vocab.txt} (lowercased unless {@code tokenizer_config.json}
 * says {@code "do_lower_case": false}). A BertForMaskedLM's {@code cls.predictions.*} head is read when present.
 * Tensor names may carry the {@code bert.} prefix of task heads
 * (BertForSequenceClassification...) or not (BertModel). PyTorch Linear weights are [out, in] and are
 * transposed to the engine's [in, out]; old TF conversions name LayerNorm parameters gamma/beta.
 */
public final class HuggingFaceFolderLoader {
    public static final String CONFIG = "config.json", WEIGHTS = "model.safetensors", TOKENIZER = "tokenizer.json",
            TOKENIZER_CONFIG = "tokenizer_config.json";

    private HuggingFaceFolderLoader() {}

    public static PretrainedModel load(Path dir) {
        return load(dir, dir.toString());
    }

    public static PretrainedModel load(Path dir, String name) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("not a folder: " + dir);
        BertConfig config = readConfig(dir.resolve(CONFIG));
        Path weightsFile = dir.resolve(WEIGHTS);
        if (!Files.exists(weightsFile)) {
            String hint = Files.exists(dir.resolve("pytorch_model.bin"))
                    ? " (found pytorch_model.bin: convert it to safetensors first)" : "";
            throw new IllegalArgumentException("file not found: " + weightsFile + hint);
        }
        SafetensorsReader st = SafetensorsReader.open(weightsFile);
        BertWeights weights = readWeights(st, config);
        return new PretrainedModel(name, weights, tokenizer(dir), null, readMaskedLm(st, config));
    }

    /** tokenizer.json if the folder has one, else vocab.txt with tokenizer_config.json's do_lower_case; else null. */
    static TokenizerSource tokenizer(Path dir) {
        Path json = dir.resolve(TOKENIZER);
        if (Files.exists(json)) return TokenizerSource.tokenizerJson(json);
        Path vocab = dir.resolve(TokenizerSource.VOCAB_TXT);
        if (!Files.exists(vocab)) return null;
        boolean lowercase = true; // BertTokenizer's default
        Path config = dir.resolve(TOKENIZER_CONFIG);
        if (Files.exists(config)) {
            try {
                JsonNode c = new ObjectMapper().readTree(config.toFile());
                if (c != null && c.has("do_lower_case")) lowercase = c.get("do_lower_case").asBoolean();
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot parse " + config + ": " + e.getMessage(), e);
            }
        }
        return TokenizerSource.vocabTxt(vocab, lowercase);
    }

    /** A BertForMaskedLM head (cls.predictions.{transform.dense, transform.LayerNorm, bias}), or null. */
    static MaskedLmWeights readMaskedLm(TensorSource st, BertConfig cfg) {
        if (!st.has("cls.predictions.bias") || !st.has("cls.predictions.transform.dense.weight")) return null;
        PrefixedTensors src = new PrefixedTensors(st, "cls.predictions.");
        int h = cfg.hidden();
        return new MaskedLmWeights(src.linear("transform.dense", h, h), src.vector("transform.dense.bias", h),
                src.layerNorm("transform.LayerNorm", true, h), src.layerNorm("transform.LayerNorm", false, h),
                src.vector("bias", cfg.vocabSize()));
    }

    /** BertConfig from the fields of a transformers BertConfig. */
    public static BertConfig readConfig(Path configJson) {
        JsonNode c;
        try {
            c = new ObjectMapper().readTree(configJson.toFile());
        } catch (java.io.FileNotFoundException | java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("file not found: " + configJson
                    + " (a model folder holds config.json, model.safetensors and tokenizer.json)", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot parse " + configJson + ": " + e.getMessage(), e);
        }
        if (c == null || !c.isObject()) throw new IllegalArgumentException(configJson + " is not a JSON object");
        String modelType = c.path("model_type").asText("bert");
        if (!modelType.equals("bert")) {
            throw new IllegalArgumentException(configJson + ": model_type '" + modelType + "' is not supported (only bert)");
        }
        return new BertConfig(
                required(c, "vocab_size", configJson),
                required(c, "hidden_size", configJson),
                required(c, "num_hidden_layers", configJson),
                required(c, "num_attention_heads", configJson),
                required(c, "intermediate_size", configJson),
                c.path("max_position_embeddings").asInt(512),
                c.path("type_vocab_size").asInt(2),
                (float) c.path("layer_norm_eps").asDouble(1e-12),
                BertConfig.Activation.fromHuggingFace(c.path("hidden_act").asText("gelu")));
    }

    private static int required(JsonNode c, String field, Path file) {
        JsonNode v = c.get(field);
        if (v == null || !v.canConvertToInt()) throw new IllegalArgumentException(file + ": missing integer field '" + field + "'");
        return v.asInt();
    }

    /** Maps HF tensor names to BertWeights; every expected tensor must be present with the config's shape. */
    public static BertWeights readWeights(TensorSource st, BertConfig cfg) {
        String prefix = st.has("bert.embeddings.word_embeddings.weight") ? "bert." : "";
        PrefixedTensors src = new PrefixedTensors(st, prefix);
        int h = cfg.hidden(), in = cfg.intermediate();
        BertWeights.Layer[] layers = new BertWeights.Layer[cfg.layers()];
        for (int i = 0; i < layers.length; i++) {
            String l = "encoder.layer." + i + ".";
            layers[i] = new BertWeights.Layer(
                    src.linear(l + "attention.self.query", h, h), src.vector(l + "attention.self.query.bias", h),
                    src.linear(l + "attention.self.key", h, h), src.vector(l + "attention.self.key.bias", h),
                    src.linear(l + "attention.self.value", h, h), src.vector(l + "attention.self.value.bias", h),
                    src.linear(l + "attention.output.dense", h, h), src.vector(l + "attention.output.dense.bias", h),
                    src.layerNorm(l + "attention.output.LayerNorm", true, h), src.layerNorm(l + "attention.output.LayerNorm", false, h),
                    src.linear(l + "intermediate.dense", h, in), src.vector(l + "intermediate.dense.bias", in),
                    src.linear(l + "output.dense", in, h), src.vector(l + "output.dense.bias", h),
                    src.layerNorm(l + "output.LayerNorm", true, h), src.layerNorm(l + "output.LayerNorm", false, h));
        }
        if (st.has(prefix + "encoder.layer." + cfg.layers() + ".attention.self.query.weight")) {
            throw new IllegalArgumentException(st.source() + " has more layers than num_hidden_layers = " + cfg.layers());
        }
        boolean pooler = st.has(prefix + "pooler.dense.weight");
        return new BertWeights(cfg,
                src.matrix("embeddings.word_embeddings.weight", cfg.vocabSize(), h),
                src.matrix("embeddings.position_embeddings.weight", cfg.maxPositions(), h),
                src.matrix("embeddings.token_type_embeddings.weight", cfg.typeVocabSize(), h),
                src.layerNorm("embeddings.LayerNorm", true, h), src.layerNorm("embeddings.LayerNorm", false, h),
                layers,
                pooler ? src.linear("pooler.dense", h, h) : null, pooler ? src.vector("pooler.dense.bias", h) : null);
    }

    /** Reads the tensors under a name prefix in PyTorch's layouts and checks their shapes against config.json. */
    private record PrefixedTensors(TensorSource st, String prefix) {
        float[] matrix(String name, long rows, long cols) {
            return read(name, rows, cols);
        }

        /** A PyTorch Linear weight [out, in], returned as [in, out]. */
        float[] linear(String module, int in, int out) {
            return OnnxBertImporter.transpose(read(module + ".weight", out, in), out, in);
        }

        float[] vector(String name, long n) {
            return read(name, n);
        }

        float[] layerNorm(String module, boolean gamma, int h) {
            String modern = module + (gamma ? ".weight" : ".bias"), old = module + (gamma ? ".gamma" : ".beta");
            return read(st.has(prefix + modern) || !st.has(prefix + old) ? modern : old, h);
        }

        private float[] read(String name, long... shape) {
            return st.read(prefix + name, CONFIG, shape);
        }
    }
}
