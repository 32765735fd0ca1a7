package dev.offramp.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.io.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Saves a decoder as a Hugging Face LlamaForCausalLM / Qwen2ForCausalLM folder that {@link DecoderFolderLoader} and
 * {@code transformers.AutoModelForCausalLM.from_pretrained} both read: {@code config.json}, the weights in one
 * {@code model.safetensors} or in {@code model-0000i-of-0000n.safetensors} shards with their
 * {@code model.safetensors.index.json}, and a copy of the tokenizer.json. Linear weights are written [out, in];
 * a tied LM head is not written (transformers ties it on load).
 */
public final class DecoderFolderWriter {
    private DecoderFolderWriter() {}

    /** One tensor under its Hugging Face name, already in PyTorch layout. */
    public record Tensor(String name, float[] data, long[] shape) {}

    /** Every tensor in the order transformers writes them. */
    public static List<Tensor> tensors(DecoderWeights w) {
        DecoderConfig c = w.config;
        int v = c.vocabSize(), h = c.hidden(), q = c.qDim(), kv = c.kvDim(), in = c.intermediate();
        List<Tensor> t = new ArrayList<>();
        t.add(new Tensor("model.embed_tokens.weight", w.tokenEmbeddings, new long[]{v, h}));
        for (int i = 0; i < w.layers.length; i++) {
            DecoderWeights.Layer l = w.layers[i];
            String p = "model.layers." + i + ".";
            t.add(new Tensor(p + "input_layernorm.weight", l.attnNorm, new long[]{h}));
            linear(t, p + "self_attn.q_proj", l.wq, l.bq, h, q);
            linear(t, p + "self_attn.k_proj", l.wk, l.bk, h, kv);
            linear(t, p + "self_attn.v_proj", l.wv, l.bv, h, kv);
            linear(t, p + "self_attn.o_proj", l.wo, null, q, h);
            t.add(new Tensor(p + "post_attention_layernorm.weight", l.mlpNorm, new long[]{h}));
            linear(t, p + "mlp.gate_proj", l.wGate, null, h, in);
            linear(t, p + "mlp.up_proj", l.wUp, null, h, in);
            linear(t, p + "mlp.down_proj", l.wDown, null, in, h);
        }
        t.add(new Tensor("model.norm.weight", w.finalNorm, new long[]{h}));
        if (w.lmHead != null) linear(t, "lm_head", w.lmHead, null, h, v);
        return t;
    }

    private static void linear(List<Tensor> t, String module, float[] w, float[] b, int in, int out) {
        t.add(new Tensor(module + ".weight", DecoderWeights.transpose(w, in, out), new long[]{out, in}));
        if (b != null) t.add(new Tensor(module + ".bias", b, new long[]{out}));
    }

    /**
     * Writes the folder.
     *
     * @param tokenizerJson copied in as tokenizer.json, or null
     * @param dtype         how the tensors are stored (F32, or F16 / BF16 to halve the size)
     * @param shards        1 for model.safetensors; more splits the tensors, in order, into that many files of
     *                      about equal size plus the index
     */
    public static void write(DecoderWeights w, Path tokenizerJson, Path dir, SafetensorsWriter.Dtype dtype, int shards) {
        List<Tensor> all = tensors(w);
        if (shards < 1 || shards > all.size()) {
            throw new IllegalArgumentException("shards must be between 1 and " + all.size() + ", got " + shards);
        }
        try {
            Files.createDirectories(dir);
            // a previous save with another layout would shadow or confuse this one
            Files.deleteIfExists(dir.resolve(SafetensorsShards.SINGLE));
            Files.deleteIfExists(dir.resolve(SafetensorsShards.INDEX));
            try (var old = Files.newDirectoryStream(dir, "model-*-of-*.safetensors")) {
                for (Path f : old) Files.delete(f);
            }
            if (shards == 1) {
                SafetensorsWriter st = newWriter();
                for (Tensor t : all) st.add(t.name, dtype, t.data, t.shape);
                st.write(dir.resolve(SafetensorsShards.SINGLE));
            } else {
                writeShards(all, dir, dtype, shards);
            }
            writeConfig(w.config, dtype, dir.resolve(DecoderFolderLoader.CONFIG));
            if (tokenizerJson != null) {
                Path target = dir.resolve(DecoderFolderLoader.TOKENIZER);
                if (!Files.exists(target) || !Files.isSameFile(tokenizerJson, target)) {
                    AtomicFiles.write(target, tmp -> Files.copy(tokenizerJson, tmp, StandardCopyOption.REPLACE_EXISTING));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
        }
    }

    private static SafetensorsWriter newWriter() {
        return new SafetensorsWriter().metadata("format", "pt").metadata("producer", "offramp");
    }

    private static void writeShards(List<Tensor> all, Path dir, SafetensorsWriter.Dtype dtype, int shards) throws IOException {
        long total = 0;
        for (Tensor t : all) total += t.data.length;
        Map<String, String> weightMap = new LinkedHashMap<>();
        long done = 0, bytes = 0;
        int next = 0;
        for (int s = 1; s <= shards; s++) {
            String name = String.format("model-%05d-of-%05d.safetensors", s, shards);
            SafetensorsWriter st = newWriter();
            long target = total * s / shards;
            // at least one tensor per shard, and leave one for each shard still to come
            do {
                Tensor t = all.get(next++);
                st.add(t.name, dtype, t.data, t.shape);
                weightMap.put(t.name, name);
                done += t.data.length;
            } while (next < all.size() - (shards - s) && done + all.get(next).data.length / 2 <= target);
            if (s == shards) {
                while (next < all.size()) {
                    Tensor t = all.get(next++);
                    st.add(t.name, dtype, t.data, t.shape);
                    weightMap.put(t.name, name);
                }
            }
            bytes += st.dataBytes();
            st.write(dir.resolve(name));
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode index = json.createObjectNode();
        index.putObject("metadata").put("total_size", bytes);
        ObjectNode map = index.putObject("weight_map");
        weightMap.forEach(map::put);
        AtomicFiles.write(dir.resolve(SafetensorsShards.INDEX),
                tmp -> json.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), index));
    }

    private static void writeConfig(DecoderConfig c, SafetensorsWriter.Dtype dtype, Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode o = json.createObjectNode();
        boolean qwen = c.modelType().equals(DecoderConfig.QWEN2);
        if (!qwen && c.qkvBias()) throw new IllegalArgumentException("a llama config cannot express q/k/v biases alone");
        o.putArray("architectures").add(qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
        o.put("model_type", c.modelType());
        o.put("vocab_size", c.vocabSize());
        o.put("hidden_size", c.hidden());
        o.put("intermediate_size", c.intermediate());
        o.put("num_hidden_layers", c.layers());
        o.put("num_attention_heads", c.heads());
        o.put("num_key_value_heads", c.kvHeads());
        o.put("head_dim", c.headDim());
        o.put("max_position_embeddings", c.maxPositions());
        o.put("rms_norm_eps", Double.parseDouble(Float.toString(c.rmsNormEps())));   // 1e-05, not 9.99999974738e-06
        o.put("rope_theta", c.ropeTheta());
        DecoderConfig.RopeScaling r = c.ropeScaling();
        if (r == null) {
            o.putNull("rope_scaling");
        } else {
            ObjectNode rs = o.putObject("rope_scaling").put("rope_type", r.type()).put("factor", r.factor());
            if (r.type().equals(DecoderConfig.RopeScaling.LLAMA3)) {
                rs.put("low_freq_factor", r.lowFreqFactor()).put("high_freq_factor", r.highFreqFactor())
                        .put("original_max_position_embeddings", r.originalMaxPositions());
            }
        }
        o.put("tie_word_embeddings", c.tiedEmbeddings());
        o.put("hidden_act", "silu");
        if (qwen) {
            o.put("use_sliding_window", false);
            o.put("max_window_layers", c.layers());
        } else {
            o.put("attention_bias", false);
            o.put("mlp_bias", false);
        }
        if (c.bosTokenId() >= 0) o.put("bos_token_id", c.bosTokenId());
        if (c.eosTokenIds().size() == 1) o.put("eos_token_id", c.eosTokenIds().get(0));
        else if (!c.eosTokenIds().isEmpty()) {
            var eos = o.putArray("eos_token_id");
            c.eosTokenIds().forEach(eos::add);
        }
        o.put("initializer_range", 0.02);
        o.put("use_cache", true);
        o.put("torch_dtype", switch (dtype) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
        });
        AtomicFiles.write(file, tmp -> json.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), o));
    }
}
