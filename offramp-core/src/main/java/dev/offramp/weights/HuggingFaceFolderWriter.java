package dev.offramp.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.io.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Saves weights as a Hugging Face BertModel folder ({@code config.json}, {@code model.safetensors} with
 * BertModel tensor names, and the model's {@code tokenizer.json} or {@code vocab.txt} + {@code tokenizer_config.json})
 * that {@link HuggingFaceFolderLoader} and {@code transformers.AutoModel.from_pretrained} both read. Linear weights
 * are written [out, in] as PyTorch expects; the pooler is written only when the weights have one, the MLM head
 * (BertForMaskedLM's {@code cls.predictions.*} names, decoder tied) only when the model has one.
 */
public final class HuggingFaceFolderWriter {
    private HuggingFaceFolderWriter() {}

    public static void write(PretrainedModel model, Path dir) {
        write(model.weights(), model.maskedLm(), dir);
        TokenizerSource tok = model.tokenizer();
        if (tok == null) return;
        try {
            Path target = dir.resolve(tok.standardName());
            if (!Files.exists(target) || !Files.isSameFile(tok.file(), target)) {
                AtomicFiles.write(target, tmp -> Files.copy(tok.file(), tmp, StandardCopyOption.REPLACE_EXISTING));
            }
            if (tok.vocabTxt()) {
                // the loader prefers tokenizer.json: one left from an earlier save would shadow this vocabulary
                Files.deleteIfExists(dir.resolve(HuggingFaceFolderLoader.TOKENIZER));
                ObjectNode c = new ObjectMapper().createObjectNode();
                c.put("tokenizer_class", "BertTokenizer");
                c.put("do_lower_case", tok.lowercase());
                AtomicFiles.write(dir.resolve(HuggingFaceFolderLoader.TOKENIZER_CONFIG),
                        tmp -> Files.writeString(tmp, c.toPrettyString()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + tok.file() + " to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Adds every backbone tensor under its Hugging Face BertModel name ([out, in] for linear weights). */
    public static void addTensors(SafetensorsWriter st, BertWeights w) {
        BertConfig c = w.config;
        int h = c.hidden(), in = c.intermediate();
        st.add("embeddings.word_embeddings.weight", w.wordEmbeddings, c.vocabSize(), h);
        st.add("embeddings.position_embeddings.weight", w.positionEmbeddings, c.maxPositions(), h);
        st.add("embeddings.token_type_embeddings.weight", w.tokenTypeEmbeddings, c.typeVocabSize(), h);
        st.add("embeddings.LayerNorm.weight", w.embLnGamma, h);
        st.add("embeddings.LayerNorm.bias", w.embLnBeta, h);
        for (int i = 0; i < w.layers.length; i++) {
            BertWeights.Layer l = w.layers[i];
            String p = "encoder.layer." + i + ".";
            linear(st, p + "attention.self.query", l.wq, l.bq, h, h);
            linear(st, p + "attention.self.key", l.wk, l.bk, h, h);
            linear(st, p + "attention.self.value", l.wv, l.bv, h, h);
            linear(st, p + "attention.output.dense", l.wo, l.bo, h, h);
            st.add(p + "attention.output.LayerNorm.weight", l.ln1Gamma, h);
            st.add(p + "attention.output.LayerNorm.bias", l.ln1Beta, h);
            linear(st, p + "intermediate.dense", l.wIn, l.bIn, h, in);
            linear(st, p + "output.dense", l.wOut, l.bOut, in, h);
            st.add(p + "output.LayerNorm.weight", l.ln2Gamma, h);
            st.add(p + "output.LayerNorm.bias", l.ln2Beta, h);
        }
        if (w.poolerW != null) linear(st, "pooler.dense", w.poolerW, w.poolerB, h, h);
    }

    public static void write(BertWeights w, Path dir) {
        write(w, null, dir);
    }

    /** The backbone, and the MLM head unless null. */
    public static void write(BertWeights w, MaskedLmWeights mlm, Path dir) {
        BertConfig c = w.config;
        SafetensorsWriter st = new SafetensorsWriter().metadata("format", "pt").metadata("producer", "offramp");
        addTensors(st, w);
        if (mlm != null) {
            int h = c.hidden();
            linear(st, "cls.predictions.transform.dense", mlm.transformW(), mlm.transformB(), h, h);
            st.add("cls.predictions.transform.LayerNorm.weight", mlm.lnGamma(), h);
            st.add("cls.predictions.transform.LayerNorm.bias", mlm.lnBeta(), h);
            st.add("cls.predictions.bias", mlm.outputBias(), c.vocabSize());
        }
        try {
            Files.createDirectories(dir);
            st.write(dir.resolve(HuggingFaceFolderLoader.WEIGHTS));
            writeConfig(c, dir.resolve(HuggingFaceFolderLoader.CONFIG));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
        }
    }

    /** [in, out] engine layout → [out, in] PyTorch Linear layout. */
    private static void linear(SafetensorsWriter st, String module, float[] w, float[] b, int in, int out) {
        st.add(module + ".weight", OnnxBertImporter.transpose(w, in, out), out, in);
        st.add(module + ".bias", b, out);
    }

    private static void writeConfig(BertConfig c, Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode o = json.createObjectNode();
        o.putArray("architectures").add("BertModel");
        o.put("model_type", "bert");
        o.put("vocab_size", c.vocabSize());
        o.put("hidden_size", c.hidden());
        o.put("num_hidden_layers", c.layers());
        o.put("num_attention_heads", c.heads());
        o.put("intermediate_size", c.intermediate());
        o.put("max_position_embeddings", c.maxPositions());
        o.put("type_vocab_size", c.typeVocabSize());
        o.put("layer_norm_eps", Double.parseDouble(Float.toString(c.layerNormEps()))); // 1e-12, not 9.9999999e-13
        o.put("hidden_act", c.activation() == BertConfig.Activation.GELU_EXACT ? "gelu" : "gelu_new");
        o.put("hidden_dropout_prob", 0.1);
        o.put("attention_probs_dropout_prob", 0.1);
        o.put("initializer_range", 0.02);
        o.put("pad_token_id", 0);
        o.put("position_embedding_type", "absolute");
        o.put("torch_dtype", "float32");
        AtomicFiles.write(file, tmp -> json.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), o));
    }
}
