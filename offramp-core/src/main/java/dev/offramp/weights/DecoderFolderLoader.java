package dev.offramp.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads a Hugging Face decoder folder: {@code config.json} (model_type "llama" or "qwen2"), the weights in
 * {@code model.safetensors} or in shards listed by {@code model.safetensors.index.json} (F32, F16 or BF16), and
 * {@code tokenizer.json} when present. Tensor names are those of LlamaForCausalLM / Qwen2ForCausalLM
 * ({@code model.layers.N.self_attn.q_proj.weight}, ..., {@code lm_head.weight}); PyTorch Linear weights [out, in]
 * are transposed to the engine's [in, out]. Every tensor's shape is checked against config.json.
 */
public final class DecoderFolderLoader {
    public static final String CONFIG = "config.json", TOKENIZER = "tokenizer.json";

    private DecoderFolderLoader() {}

    public static PretrainedDecoder load(Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("not a folder: " + dir);
        DecoderConfig config = readConfig(dir.resolve(CONFIG));
        DecoderWeights weights = readWeights(SafetensorsShards.open(dir), config);
        Path tok = dir.resolve(TOKENIZER);
        return new PretrainedDecoder(dir.toString(), weights, Files.exists(tok) ? tok : null);
    }

    /** The config of a LlamaConfig or Qwen2Config; unsupported model types and features are named. */
    public static DecoderConfig readConfig(Path configJson) {
        JsonNode c;
        try {
            c = new ObjectMapper().readTree(configJson.toFile());
        } catch (java.io.FileNotFoundException | NoSuchFileException e) {
            throw new IllegalArgumentException("file not found: " + configJson
                    + " (a decoder folder holds config.json, model.safetensors and tokenizer.json)", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot parse " + configJson + ": " + e.getMessage(), e);
        }
        if (c == null || !c.isObject()) throw new IllegalArgumentException(configJson + " is not a JSON object");
        String type = c.path("model_type").asText("");
        if (!type.equals(DecoderConfig.LLAMA) && !type.equals(DecoderConfig.QWEN2)) {
            throw new IllegalArgumentException(configJson + ": model_type '" + type + "' is not supported (supported "
                    + "decoders: llama, qwen2)");
        }
        String act = c.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new IllegalArgumentException(configJson + ": hidden_act '" + act + "' is not supported (only silu)");
        }
        if (type.equals(DecoderConfig.LLAMA)) {
            for (String f : new String[]{"attention_bias", "mlp_bias"}) {
                if (c.path(f).asBoolean(false)) {
                    throw new IllegalArgumentException(configJson + ": " + f + " = true is not supported");
                }
            }
        }
        if (c.path("use_sliding_window").asBoolean(false)) {
            throw new IllegalArgumentException(configJson + ": use_sliding_window = true is not supported");
        }
        int hidden = required(c, "hidden_size", configJson), heads = required(c, "num_attention_heads", configJson);
        int headDim = c.hasNonNull("head_dim") ? c.get("head_dim").asInt() : hidden / heads;
        if (!c.hasNonNull("head_dim") && hidden % heads != 0) {
            throw new IllegalArgumentException(configJson + ": hidden_size " + hidden + " is not a multiple of "
                    + "num_attention_heads " + heads + " and there is no head_dim");
        }
        List<Integer> eos = new ArrayList<>();
        JsonNode e = c.path("eos_token_id");
        if (e.isArray()) e.forEach(x -> eos.add(x.asInt()));
        else if (e.canConvertToInt()) eos.add(e.asInt());
        try {
            return new DecoderConfig(type,
                    required(c, "vocab_size", configJson), hidden, required(c, "intermediate_size", configJson),
                    required(c, "num_hidden_layers", configJson), heads,
                    c.hasNonNull("num_key_value_heads") ? c.get("num_key_value_heads").asInt() : heads, headDim,
                    c.path("max_position_embeddings").asInt(type.equals(DecoderConfig.QWEN2) ? 32768 : 2048),
                    (float) c.path("rms_norm_eps").asDouble(1e-6), c.path("rope_theta").asDouble(10000.0),
                    ropeScaling(c.get("rope_scaling"), configJson),
                    c.path("tie_word_embeddings").asBoolean(false), type.equals(DecoderConfig.QWEN2),
                    c.path("bos_token_id").canConvertToInt() ? c.get("bos_token_id").asInt() : -1, eos);
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException(configJson + ": " + ex.getMessage(), ex);
        }
    }

    private static DecoderConfig.RopeScaling ropeScaling(JsonNode r, Path file) {
        if (r == null || r.isNull()) return null;
        String type = r.hasNonNull("rope_type") ? r.get("rope_type").asText() : r.path("type").asText("");
        if (type.equals("default")) return null;
        return new DecoderConfig.RopeScaling(type, r.path("factor").asDouble(1.0), r.path("low_freq_factor").asDouble(1.0),
                r.path("high_freq_factor").asDouble(4.0), r.path("original_max_position_embeddings").asInt(0));
    }

    private static int required(JsonNode c, String field, Path file) {
        JsonNode v = c.get(field);
        if (v == null || !v.canConvertToInt()) throw new IllegalArgumentException(file + ": missing integer field '" + field + "'");
        return v.asInt();
    }

    /** Maps the LlamaForCausalLM tensor names to DecoderWeights, checking every shape. */
    public static DecoderWeights readWeights(TensorSource st, DecoderConfig cfg) {
        // a bare LlamaModel has no "model." prefix (and no LM head)
        String p = st.has("model.embed_tokens.weight") || !st.has("embed_tokens.weight") ? "model." : "";
        int v = cfg.vocabSize(), h = cfg.hidden(), q = cfg.qDim(), kv = cfg.kvDim(), in = cfg.intermediate();
        DecoderWeights.Layer[] layers = new DecoderWeights.Layer[cfg.layers()];
        for (int i = 0; i < layers.length; i++) {
            String l = p + "layers." + i + ".";
            boolean b = cfg.qkvBias();
            layers[i] = new DecoderWeights.Layer(
                    read(st, l + "input_layernorm.weight", h),
                    linear(st, l + "self_attn.q_proj", h, q), b ? read(st, l + "self_attn.q_proj.bias", q) : null,
                    linear(st, l + "self_attn.k_proj", h, kv), b ? read(st, l + "self_attn.k_proj.bias", kv) : null,
                    linear(st, l + "self_attn.v_proj", h, kv), b ? read(st, l + "self_attn.v_proj.bias", kv) : null,
                    linear(st, l + "self_attn.o_proj", q, h),
                    read(st, l + "post_attention_layernorm.weight", h),
                    linear(st, l + "mlp.gate_proj", h, in), linear(st, l + "mlp.up_proj", h, in),
                    linear(st, l + "mlp.down_proj", in, h));
            if (!b && st.has(l + "self_attn.q_proj.bias")) {
                throw new IllegalArgumentException(st.source() + " has '" + l + "self_attn.q_proj.bias' but a "
                        + cfg.modelType() + " config has no q/k/v biases");
            }
        }
        if (st.has(p + "layers." + cfg.layers() + ".input_layernorm.weight")) {
            throw new IllegalArgumentException(st.source() + " has more layers than num_hidden_layers = " + cfg.layers());
        }
        float[] lmHead = null;
        if (!cfg.tiedEmbeddings()) {
            if (!st.has("lm_head.weight")) {
                throw new IllegalArgumentException(st.source() + " has no tensor 'lm_head.weight' and config.json says "
                        + "tie_word_embeddings = false");
            }
            lmHead = linear(st, "lm_head", h, v);
        }
        return new DecoderWeights(cfg, read(st, p + "embed_tokens.weight", v, h), layers, read(st, p + "norm.weight", h),
                lmHead);
    }

    /** A PyTorch Linear weight [out, in], returned as [in, out]. */
    private static float[] linear(TensorSource st, String module, int in, int out) {
        return DecoderWeights.transpose(read(st, module + ".weight", out, in), out, in);
    }

    private static float[] read(TensorSource st, String name, long... shape) {
        return st.read(name, CONFIG, shape);
    }
}
