package dev.offramp.decoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offramp.tokenizer.bpe.BpeTokenizer;
import dev.offramp.weights.DecoderConfig;
import dev.offramp.weights.DecoderFolderLoader;
import dev.offramp.weights.PretrainedDecoder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The decoder engine against scripts/reference/llama_reference.py (numpy, float64, whole-sequence causal forward
 * with its own safetensors reader and rotary code) on the two committed tiny checkpoints: a Llama with GQA, an
 * untied head, llama3 rope scaling and F16 shards, and a Qwen 2 with q/k/v biases, a tied head and BF16 weights.
 * Logits of every position must be within relative error 1e-4 (max |a − b| / max |b|) when the prompt runs as one
 * step, token by token through the KV cache, and in uneven chunks; so must the shared head applied after layer
 * 1, and a decode whose tokens exit early with state propagation, with and without the skipped layer's input norm.
 */
class DecoderGoldenTest {
    static final double MAX_REL_ERR = 1e-4;

    static Path folder(String name) {
        try {
            return Path.of(DecoderGoldenTest.class.getResource("/golden/" + name + "/config.json").toURI()).getParent();
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("golden/" + name + " is not on the test class path", e);
        }
    }

    static float[] floats(JsonNode b64) {
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(b64.asText())).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    /** max |got − want| / max |want|. */
    static double relErr(float[] want, float[] got) {
        assertEquals(want.length, got.length, "sizes");
        double diff = 0, scale = 0;
        for (int i = 0; i < want.length; i++) {
            diff = Math.max(diff, Math.abs(got[i] - want[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        return diff / scale;
    }

    private static void assertClose(float[] want, float[] got, String what) {
        double err = relErr(want, got);
        assertTrue(err <= MAX_REL_ERR, what + ": relative error " + err);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-qwen2"})
    void logitsMatchTheReferenceWithAndWithoutTheKvCache(String name) throws IOException {
        PretrainedDecoder model = DecoderFolderLoader.load(folder(name));
        JsonNode golden = new ObjectMapper().readTree(folder(name).resolve("golden.json").toFile());
        DecoderConfig c = model.config();
        assertEquals(2, c.layers());
        assertTrue(c.kvHeads() < c.heads(), "grouped-query attention");
        assertEquals(name.equals("tiny-qwen2"), c.qkvBias() && c.tiedEmbeddings());
        BpeTokenizer tok = model.newTokenizer();
        LlamaDecoder decoder = new LlamaDecoder(model.weights());
        int v = c.vocabSize();
        double worstWhole = 0, worstCached = 0, worstChunked = 0;
        for (JsonNode p : golden.get("prompts")) {
            int[] ids = ints(p.get("ids"));
            assertArrayEquals(ids, tok.encode(p.get("text").asText(), true), "ids of " + p.get("text"));
            float[] want = floats(p.get("logits"));
            assertEquals(ids.length * v, want.length);

            DecoderState s = decoder.newState(64, 64);
            float[] whole = decoder.forwardAll(s, ids);
            worstWhole = Math.max(worstWhole, relErr(want, whole));
            assertClose(want, whole, name + " prompt as one step");
            assertEquals(ids.length, s.length());

            // one token per step: every token attends to the cache the earlier steps filled
            DecoderState t = decoder.newState(64, 1);
            float[] cached = new float[ids.length * v];
            for (int i = 0; i < ids.length; i++) {
                System.arraycopy(decoder.forward(t, new int[]{ids[i]}), 0, cached, i * v, v);
            }
            worstCached = Math.max(worstCached, relErr(want, cached));
            assertClose(want, cached, name + " token by token");

            // uneven chunks (7, 1, 5, rest)
            DecoderState u = decoder.newState(64, 7);
            float[] chunked = new float[ids.length * v];
            int[] sizes = {7, 1, 5};
            for (int at = 0, k = 0; at < ids.length; k++) {
                int n = Math.min(ids.length - at, k < sizes.length ? sizes[k] : 7);
                int[] part = java.util.Arrays.copyOfRange(ids, at, at + n);
                System.arraycopy(decoder.forwardAll(u, part), 0, chunked, at * v, n * v);
                at += n;
            }
            worstChunked = Math.max(worstChunked, relErr(want, chunked));
            assertClose(want, chunked, name + " in chunks");

            if (p.has("exit_logits")) {
                assertEquals(1, p.get("exit_layer").asInt());
                DecoderState e = decoder.newState(64, 64);
                decoder.begin(e, ids, 0, ids.length);
                decoder.layer(e, 0);
                float[] exit = new float[ids.length * v];
                decoder.logits(e, 0, ids.length, exit, 0);
                assertClose(floats(p.get("exit_logits")), exit, name + " head after layer 1");
                assertTrue(relErr(want, exit) > 100 * MAX_REL_ERR, "layer 1 and layer 2 logits differ");
            }
        }
        System.out.printf("%s: max relative error of the logits: %.2e whole prompt, %.2e token by token, %.2e chunked%n",
                name, worstWhole, worstCached, worstChunked);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-qwen2"})
    void earlyExitWithStatePropagationMatchesTheReference(String name) throws IOException {
        PretrainedDecoder model = DecoderFolderLoader.load(folder(name));
        JsonNode g = new ObjectMapper().readTree(folder(name).resolve("golden.json").toFile()).get("propagation");
        LlamaDecoder decoder = new LlamaDecoder(model.weights());
        int[] ids = ints(g.get("ids")), exits = ints(g.get("exit_layers"));
        int prompt = g.get("prompt_length").asInt(), v = model.config().vocabSize(), layers = model.config().layers();
        float[] wantWith = floats(g.get("with_input_norm")), wantWithout = floats(g.get("without_input_norm"));
        assertTrue(relErr(wantWith, wantWithout) > 100 * MAX_REL_ERR, "the input norm matters, so the test tells them apart");
        for (boolean inputNorm : new boolean[]{true, false}) {
            DecoderState s = decoder.newState(64, prompt);
            decoder.forward(s, java.util.Arrays.copyOf(ids, prompt));
            float[] got = new float[exits.length * v];
            for (int i = 0; i < exits.length; i++) {
                decoder.begin(s, ids, prompt + i, 1);
                for (int l = 0; l < exits[i]; l++) decoder.layer(s, l);
                decoder.logits(s, 0, 1, got, i * v);
                for (int l = exits[i]; l < layers; l++) {
                    if (inputNorm) decoder.propagateKv(s, l);
                    else decoder.propagateKvWithoutInputNorm(s, l);
                }
                decoder.finish(s);
            }
            double err = relErr(inputNorm ? wantWith : wantWithout, got);
            System.out.printf("%s: early exits %s, propagation %s the input norm: relative error %.2e%n", name,
                    java.util.Arrays.toString(exits), inputNorm ? "with" : "without", err);
            assertTrue(err <= MAX_REL_ERR, name + " propagation " + (inputNorm ? "with" : "without") + " norm: " + err);
        }
        // the exact mode (the rest of the layers run, their output unused) fills other KV: the reference tells it apart
        DecoderState s = decoder.newState(64, prompt);
        decoder.forward(s, java.util.Arrays.copyOf(ids, prompt));
        float[] exact = new float[exits.length * v];
        for (int i = 0; i < exits.length; i++) {
            decoder.begin(s, ids, prompt + i, 1);
            for (int l = 0; l < exits[i]; l++) decoder.layer(s, l);
            decoder.logits(s, 0, 1, exact, i * v);
            for (int l = exits[i]; l < layers; l++) decoder.layer(s, l);
            decoder.finish(s);
        }
        assertTrue(relErr(wantWith, exact) > 100 * MAX_REL_ERR, "propagated KV differs from running the layers");
    }
}
