package dev.offramp.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.tokenizer.WordPieceTokenizer;
import dev.offramp.weights.BertWeights;
import dev.offramp.weights.ModelRegistry;
import dev.offramp.weights.PretrainedModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * bert-base-uncased as Offramp loads and runs it (TF checkpoint reader, vocab.txt tokenizer, engine, MLM head)
 * against golden.json, written by the independent numpy implementation scripts/reference/bert_tf_reference.py
 * (float64) from the same checkpoint: token ids equal, last hidden state and pooled output within relative error
 * 1e-4 (max |a − b| / max |b| per tensor), MLM top-5 ids equal with probabilities within 1e-4, and the top-1 of
 * the MLM head after every layer equal.
 */
class BertBaseGoldenTest {
    static final double MAX_REL_ERR = 1e-4, MAX_PROB_ERR = 1e-4;

    static PretrainedModel model;
    static JsonNode golden;

    @BeforeAll
    static void load() throws IOException {
        model = ModelRegistry.load("bert-base-uncased");
        try (InputStream in = BertBaseGoldenTest.class.getResourceAsStream("/golden/bert-base-uncased/golden.json")) {
            assertNotNull(in, "golden/bert-base-uncased/golden.json on the test classpath");
            golden = new ObjectMapper().readTree(in);
        }
    }

    @Test
    void goldenFileIsTheContractedOne() {
        assertEquals("gelu_tanh", golden.get("activation").asText());
        assertEquals(6, golden.get("cases").size());
        assertEquals(dev.offramp.weights.BertConfig.Activation.GELU_TANH, model.config().activation());
    }

    @Test
    void tokensForwardPoolerAndMaskedLmMatchTheReference() {
        WordPieceTokenizer tok = model.newTokenizer();
        BertEncoder encoder = new BertEncoder(model.weights());
        MaskedLmHead head = new MaskedLmHead(model.weights(), model.maskedLm());
        int h = model.config().hidden(), v = head.vocabSize(), layers = model.config().layers();
        JsonNode cases = golden.get("cases");

        List<Encoding> inputs = new ArrayList<>();
        for (JsonNode c : cases) {
            String text = c.get("text").asText();
            Encoding e = c.get("text_pair").isNull() ? tok.encode(text, 512) : tok.encodePair(text, c.get("text_pair").asText(), 512);
            assertArrayEquals(ints(c.get("input_ids")), e.ids(), "input ids of: " + text);
            assertArrayEquals(ints(c.get("token_type_ids")), e.typeIds(), "token types of: " + text);
            for (int t = 0; t < e.length(); t++) assertEquals(c.get("tokens").get(t).asText(), tok.token(e.ids()[t]), text);
            inputs.add(e);
        }

        EncoderBatch batch = encoder.start(encoder.newBatch(), inputs);
        int maskChecks = 0;
        double worstProb = 0, worstHidden = 0, worstPooled = 0;
        for (int l = 1; l <= layers; l++) {
            encoder.layer(batch);
            for (int b = 0; b < batch.size(); b++) {
                JsonNode c = cases.get(batch.sampleId(b));
                for (JsonNode mask : c.get("masks")) {
                    int row = (batch.offset(b) + mask.get("position").asInt()) * h;
                    float[] logits = head.logits(batch.hidden(), new int[]{row});
                    JsonNode expected = mask.get("per_layer_top1").get(l - 1);
                    assertEquals(l, expected.get("layer").asInt());
                    MaskedLmHead.Token top1 = MaskedLmHead.topK(logits, 0, v, 1).getFirst();
                    String where = c.get("text").asText() + " mask at " + mask.get("position") + " layer " + l;
                    assertEquals(expected.get("token").asText(), tok.token(top1.id()), where);
                    assertEquals(expected.get("probability").asDouble(), top1.probability(), MAX_PROB_ERR, where);
                    worstProb = Math.max(worstProb, Math.abs(expected.get("probability").asDouble() - top1.probability()));
                    if (l == layers) {
                        List<MaskedLmHead.Token> top5 = MaskedLmHead.topK(logits, 0, v, 5);
                        for (int j = 0; j < 5; j++) {
                            JsonNode g = mask.get("top5").get(j);
                            assertEquals(g.get("id").asInt(), top5.get(j).id(), where + " rank " + (j + 1));
                            assertEquals(g.get("token").asText(), tok.token(top5.get(j).id()), where);
                            assertEquals(g.get("probability").asDouble(), top5.get(j).probability(), MAX_PROB_ERR, where);
                            worstProb = Math.max(worstProb, Math.abs(g.get("probability").asDouble() - top5.get(j).probability()));
                        }
                    }
                    maskChecks++;
                }
            }
        }
        assertEquals(12 * 4, maskChecks, "four [MASK]s in the six sentences, checked after each of 12 layers");

        for (int b = 0; b < batch.size(); b++) {
            JsonNode c = cases.get(batch.sampleId(b));
            String text = c.get("text").asText();
            float[] hidden = batch.copyHidden(b);
            float[] expected = floats(c.get("last_hidden_state"), batch.length(b), h);
            assertTrue(relErr(hidden, expected) <= MAX_REL_ERR, "last hidden state of '" + text + "': relative error "
                    + relErr(hidden, expected));
            float[] pooled = pooled(model.weights(), hidden);
            float[] expectedPooled = floats(c.get("pooled_output"), h);
            assertTrue(relErr(pooled, expectedPooled) <= MAX_REL_ERR, "pooled output of '" + text + "': relative error "
                    + relErr(pooled, expectedPooled));
            worstHidden = Math.max(worstHidden, relErr(hidden, expected));
            worstPooled = Math.max(worstPooled, relErr(pooled, expectedPooled));
        }
        System.out.printf(java.util.Locale.ROOT, "bert-base-uncased vs golden.json: max relative error last hidden %.2e, "
                + "pooled %.2e; max probability difference %.2e%n", worstHidden, worstPooled, worstProb);
    }

    /** tanh(h_CLS · Wp + bp), BERT's pooler, from the checkpoint's weights. */
    static float[] pooled(BertWeights w, float[] hidden) {
        int h = w.config.hidden();
        float[] out = new float[h];
        for (int o = 0; o < h; o++) {
            double s = w.poolerB[o];
            for (int i = 0; i < h; i++) s += (double) hidden[i] * w.poolerW[i * h + o];
            out[o] = (float) Math.tanh(s);
        }
        return out;
    }

    /** max |a − b| / max |b|. */
    static double relErr(float[] a, float[] b) {
        assertEquals(b.length, a.length);
        double diff = 0, scale = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs((double) a[i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        return diff / scale;
    }

    static int[] ints(JsonNode array) {
        int[] a = new int[array.size()];
        for (int i = 0; i < a.length; i++) a[i] = array.get(i).asInt();
        return a;
    }

    /** A {"shape": [...], "float32_le_base64": "..."} tensor, its shape checked. */
    static float[] floats(JsonNode tensor, int... shape) {
        assertArrayEquals(shape, ints(tensor.get("shape")));
        ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(tensor.get("float32_le_base64").asText()))
                .order(ByteOrder.LITTLE_ENDIAN);
        float[] a = new float[bytes.remaining() / 4];
        bytes.asFloatBuffer().get(a);
        int n = 1;
        for (int d : shape) n *= d;
        assertEquals(n, a.length, "values in the tensor");
        return a;
    }
}
