package dev.offramp.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Writes tiny random BertWeights as a Hugging Face folder and reads them back bit for bit. */
class HuggingFaceFolderRoundTripTest {
    static final BertConfig TINY = new BertConfig(50, 8, 2, 2, 16, 20, 2, 1e-12f, BertConfig.Activation.GELU_EXACT);

    @TempDir
    Path tmp;

    static BertWeights random(BertConfig c, boolean pooler, long seed) {
        Random r = new Random(seed);
        int h = c.hidden(), in = c.intermediate();
        BertWeights.Layer[] layers = new BertWeights.Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new BertWeights.Layer(f(r, h * h), f(r, h), f(r, h * h), f(r, h), f(r, h * h), f(r, h),
                    f(r, h * h), f(r, h), f(r, h), f(r, h), f(r, h * in), f(r, in), f(r, in * h), f(r, h), f(r, h), f(r, h));
        }
        return new BertWeights(c, f(r, c.vocabSize() * h), f(r, c.maxPositions() * h), f(r, c.typeVocabSize() * h),
                f(r, h), f(r, h), layers, pooler ? f(r, h * h) : null, pooler ? f(r, h) : null);
    }

    static float[] f(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    static void assertSameWeights(BertWeights a, BertWeights b) {
        assertEquals(a.config, b.config);
        assertArrayEquals(a.wordEmbeddings, b.wordEmbeddings);
        assertArrayEquals(a.positionEmbeddings, b.positionEmbeddings);
        assertArrayEquals(a.tokenTypeEmbeddings, b.tokenTypeEmbeddings);
        assertArrayEquals(a.embLnGamma, b.embLnGamma);
        assertArrayEquals(a.embLnBeta, b.embLnBeta);
        for (int i = 0; i < a.layers.length; i++) {
            BertWeights.Layer x = a.layers[i], y = b.layers[i];
            float[][] xs = {x.wq, x.bq, x.wk, x.bk, x.wv, x.bv, x.wo, x.bo, x.ln1Gamma, x.ln1Beta, x.wIn, x.bIn, x.wOut, x.bOut, x.ln2Gamma, x.ln2Beta};
            float[][] ys = {y.wq, y.bq, y.wk, y.bk, y.wv, y.bv, y.wo, y.bo, y.ln1Gamma, y.ln1Beta, y.wIn, y.bIn, y.wOut, y.bOut, y.ln2Gamma, y.ln2Beta};
            for (int k = 0; k < xs.length; k++) assertArrayEquals(xs[k], ys[k], "layer " + i + " tensor #" + k);
        }
        assertArrayEquals(a.poolerW, b.poolerW);
        assertArrayEquals(a.poolerB, b.poolerB);
    }

    @Test
    void roundTripWithAndWithoutPooler() throws IOException {
        for (boolean pooler : new boolean[]{true, false}) {
            BertWeights w = random(TINY, pooler, pooler ? 1 : 2);
            Path dir = tmp.resolve("model-" + pooler);
            Path tok = Files.writeString(tmp.resolve("tok.json"), "{\"model\":{}}");
            HuggingFaceFolderWriter.write(new PretrainedModel("tiny", w, tok, null), dir);
            PretrainedModel back = ModelRegistry.load(dir.toString());
            assertSameWeights(w, back.weights());
            assertEquals(pooler, back.weights().poolerW != null);
            assertEquals("{\"model\":{}}", Files.readString(back.tokenizer().file()));
            assertNull(back.onnxFile());
        }
    }

    @Test
    void tanhActivationAndEpsSurviveConfigJson() {
        BertConfig c = new BertConfig(30, 8, 1, 4, 12, 10, 1, 1e-5f, BertConfig.Activation.GELU_TANH);
        BertWeights w = random(c, false, 3);
        HuggingFaceFolderWriter.write(w, tmp);
        assertEquals(c, HuggingFaceFolderLoader.load(tmp).config());
    }

    /** The layout transformers and the Python safetensors package expect. */
    @Test
    void fileFormatIsStandard() throws IOException {
        BertWeights w = random(TINY, true, 4);
        HuggingFaceFolderWriter.write(w, tmp);
        byte[] file = Files.readAllBytes(tmp.resolve("model.safetensors"));
        long n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, (8 + n) % 8, "data section 8-byte aligned");
        String headerText = new String(file, 8, (int) n, StandardCharsets.UTF_8);
        JsonNode header = new ObjectMapper().readTree(headerText);
        assertEquals("pt", header.get("__metadata__").get("format").asText());
        JsonNode q = header.get("encoder.layer.1.attention.self.query.weight");
        assertEquals("F32", q.get("dtype").asText());
        assertEquals("[8,8]", q.get("shape").toString());
        JsonNode in = header.get("encoder.layer.0.intermediate.dense.weight");
        assertEquals("[16,8]", in.get("shape").toString(), "PyTorch Linear layout [out, in]");
        // element [out=3][in=5] of the stored matrix is the engine's [in=5][out=3]
        long begin = in.get("data_offsets").get(0).asLong();
        float stored = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getFloat((int) (8 + n + begin + 4 * (3 * 8 + 5)));
        assertEquals(w.layers[0].wIn[5 * 16 + 3], stored);
        long total = 0;
        for (var it = header.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getKey().equals("__metadata__")) total = Math.max(total, e.getValue().get("data_offsets").get(1).asLong());
        }
        assertEquals(file.length, 8 + n + total, "no bytes after the last tensor");
        JsonNode config = new ObjectMapper().readTree(tmp.resolve("config.json").toFile());
        assertEquals("bert", config.get("model_type").asText());
        assertEquals(1e-12, config.get("layer_norm_eps").asDouble());
    }

    /** BertFor* checkpoints prefix names with "bert."; TF conversions call LayerNorm parameters gamma/beta. */
    @Test
    void readsPrefixedAndGammaBetaNames() throws IOException {
        BertWeights w = random(TINY, false, 5);
        HuggingFaceFolderWriter.write(w, tmp);
        SafetensorsReader plain = SafetensorsReader.open(tmp.resolve("model.safetensors"));
        SafetensorsWriter renamed = new SafetensorsWriter();
        for (var e : plain.entries().values()) {
            String name = "bert." + e.name().replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta");
            renamed.add(name, plain.floats(e.name()), e.shape());
        }
        renamed.add("cls.predictions.bias", new float[]{1, 2, 3}, 3); // a task head the loader ignores
        Path dir = Files.createDirectories(tmp.resolve("prefixed"));
        renamed.write(dir.resolve("model.safetensors"));
        Files.copy(tmp.resolve("config.json"), dir.resolve("config.json"));
        PretrainedModel back = HuggingFaceFolderLoader.load(dir);
        assertSameWeights(w, back.weights());
        assertNull(back.tokenizer(), "no tokenizer.json in the folder");
    }

    @Test
    void halfPrecisionIsReadAsFloat() throws IOException {
        // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800; BF16: the top 16 bits of the float
        short[] f16 = {0x3C00, (short) 0xC000, 0x3800};
        float[] expected = {1f, -2f, 0.5f};
        float pi = (float) Math.PI;
        short[] bf16 = {(short) (Float.floatToIntBits(pi) >>> 16), (short) (Float.floatToIntBits(-3f) >>> 16)};
        String header = "{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[6,10]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + 10).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        for (short s : f16) buf.putShort(s);
        for (short s : bf16) buf.putShort(s);
        Path file = tmp.resolve("half.safetensors");
        Files.write(file, buf.array());
        SafetensorsReader r = SafetensorsReader.open(file);
        assertArrayEquals(expected, r.floats("a"));
        assertArrayEquals(new float[]{Float.intBitsToFloat(Float.floatToIntBits(pi) & 0xFFFF0000), -3f}, r.floats("b"));
        assertTrue(r.metadata().isEmpty());
    }
}
