package dev.offramp.decoder;

import dev.offramp.weights.DecoderConfig;
import dev.offramp.weights.DecoderFolderLoader;
import dev.offramp.weights.DecoderWeights;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** The step API of {@link LlamaDecoder}: what state propagation writes, order checks, reuse, sharing, rope scaling. */
class LlamaDecoderTest {
    static final int[] TOKENS = {418, 84, 301, 72, 15, 250, 33, 7, 199, 410, 64, 3};

    static LlamaDecoder tinyLlama() {
        return new LlamaDecoder(DecoderFolderLoader.load(DecoderGoldenTest.folder("tiny-llama")).weights());
    }

    /**
     * After a token exits at layer 1 of 2, layer 2's cache holds k = rope(RMSNorm₂(h)·Wk), v = RMSNorm₂(h)·Wv of
     * the exit hidden state h, computed here in double from the raw weights; without the norm, of h itself. The
     * layer that ran keeps the KV of a full forward. (That the propagated KV of deeper layers differs from a full
     * run is in DecoderGoldenTest's reference decode.)
     */
    @Test
    void propagationWritesTheSkippedLayersKvFromTheExitState() {
        LlamaDecoder d = tinyLlama();
        DecoderConfig c = d.config();
        DecoderWeights w = d.weights();
        for (boolean norm : new boolean[]{true, false}) {
            DecoderState s = d.newState(32, 8), full = d.newState(32, 8);
            d.forward(s, Arrays.copyOf(TOKENS, 5));
            d.forward(full, Arrays.copyOf(TOKENS, 6));
            d.begin(s, TOKENS, 5, 1);
            d.layer(s, 0);
            float[] h = Arrays.copyOf(s.hidden(), c.hidden());
            if (norm) d.propagateKv(s, 1);
            else d.propagateKvWithoutInputNorm(s, 1);
            assertArrayEquals(h, Arrays.copyOf(s.hidden(), c.hidden()), "propagation leaves the hidden state alone");
            d.finish(s);
            assertEquals(6, s.length());

            double[] in = new double[c.hidden()];
            double ms = 0;
            for (double x : h) ms += x * x / c.hidden();
            for (int i = 0; i < in.length; i++) {
                in[i] = norm ? h[i] / Math.sqrt(ms + c.rmsNormEps()) * w.layers[1].attnNorm[i] : h[i];
            }
            double[] inv = Rope.inverseFrequencies(c);
            float[] got = new float[c.headDim()], ran = new float[c.headDim()];
            for (int kvh = 0; kvh < c.kvHeads(); kvh++) {
                double[] k = project(in, w.layers[1].wk, c.kvDim(), kvh * c.headDim(), c.headDim());
                double[] v = project(in, w.layers[1].wv, c.kvDim(), kvh * c.headDim(), c.headDim());
                int half = c.headDim() / 2;
                double[] rk = new double[c.headDim()];
                for (int i = 0; i < half; i++) {
                    double a = 5 * inv[i];
                    rk[i] = k[i] * Math.cos(a) - k[i + half] * Math.sin(a);
                    rk[i + half] = k[i + half] * Math.cos(a) + k[i] * Math.sin(a);
                }
                s.key(1, 5, kvh, got, 0);
                for (int i = 0; i < got.length; i++) assertEquals(rk[i], got[i], 1e-4 * (1 + Math.abs(rk[i])), "k " + i);
                s.value(1, 5, kvh, got, 0);
                for (int i = 0; i < got.length; i++) assertEquals(v[i], got[i], 1e-4 * (1 + Math.abs(v[i])), "v " + i);
                // layer 1 ran: same KV as the full-depth run. The exit state is exactly layer 2's input, so through
                // layer 2's own input norm the first skipped layer gets the KV a full run gives it; without, not
                s.key(0, 5, kvh, got, 0);
                full.key(0, 5, kvh, ran, 0);
                assertArrayEquals(ran, got, "layer 1 ran for the token");
                s.key(1, 5, kvh, got, 0);
                full.key(1, 5, kvh, ran, 0);
                if (norm) assertArrayEquals(ran, got, "first skipped layer, with its norm: exact");
                else assertFalse(Arrays.equals(ran, got), "first skipped layer, without its norm: not exact");
            }
        }
    }

    /** Propagating from a saved exit state gives the KV that propagating straight away gives. */
    @Test
    void propagationFromAGivenHiddenState() {
        LlamaDecoder d = tinyLlama();
        int c = d.config().hidden();
        DecoderState now = d.newState(16, 4), later = d.newState(16, 4);
        for (DecoderState s : new DecoderState[]{now, later}) d.forward(s, Arrays.copyOf(TOKENS, 4));
        d.begin(now, TOKENS, 4, 2);
        d.propagateKv(now, 0);
        d.propagateKv(now, 1);
        d.finish(now);
        d.begin(later, TOKENS, 4, 2);
        float[] saved = new float[3 + 2 * c];
        System.arraycopy(later.hidden(), 0, saved, 3, 2 * c);   // the embeddings: "exit" after no layer
        d.propagateKv(later, 0, saved, 3);
        d.propagateKv(later, 1, saved, 3);
        d.finish(later);
        assertSameKv(d, now, later, 4, 6);
        d.begin(later, TOKENS, 6, 1);
        assertThrows(IllegalArgumentException.class, () -> d.propagateKv(later, 0, new float[c - 1], 0));
    }

    /** in (C) · W (C, cols)[:, from .. from+n). */
    private static double[] project(double[] in, float[] w, int cols, int from, int n) {
        double[] out = new double[n];
        for (int r = 0; r < in.length; r++) for (int j = 0; j < n; j++) out[j] += in[r] * w[r * cols + from + j];
        return out;
    }

    /**
     * Self-speculative decoding's two halves: tokens run layer 0 as shallow steps, then one deep step runs layer 1 on
     * the first n of them from their saved hidden states. Their logits and every cached K/V equal a full forward of
     * the same tokens, bit for bit (a row's arithmetic does not depend on how many rows a step has), and the positions
     * past n are dropped so the sequence goes on from there.
     */
    @Test
    void shallowStepsThenOneDeepStepEqualAFullForward() {
        LlamaDecoder d = tinyLlama();
        int c = d.config().hidden(), v = d.config().vocabSize(), prompt = 4, drafted = 4;
        for (int n : new int[]{drafted, 2}) {
            DecoderState s = d.newState(32, 8), full = d.newState(32, 8);
            d.forward(s, Arrays.copyOf(TOKENS, prompt));
            float[] expected = d.forwardAll(full, Arrays.copyOf(TOKENS, prompt + n));
            float[] hidden = new float[drafted * c];
            for (int j = 0; j < drafted; j++) {
                d.begin(s, TOKENS, prompt + j, 1);
                d.layer(s, 0);
                System.arraycopy(s.hidden(), 0, hidden, j * c, c);
                d.finishShallow(s);
            }
            assertEquals(prompt + drafted, s.length());
            d.beginDeep(s, prompt, n, hidden, 0, 1);
            d.layer(s, 1);
            float[] got = new float[n * v];
            d.logits(s, 0, n, got, 0);
            d.finish(s);
            assertEquals(prompt + n, s.length(), "positions past the deep step are dropped");
            assertArrayEquals(Arrays.copyOfRange(expected, prompt * v, (prompt + n) * v), got);
            assertSameKv(d, full, s, 0, prompt + n);
            d.forward(s, new int[]{TOKENS[prompt + n]});                       // a normal step follows
            assertEquals(prompt + n + 1, s.length());
        }
    }

    /** Every layer's cached keys and values of positions [from, to), every KV head, equal bit for bit. */
    static void assertSameKv(LlamaDecoder d, DecoderState expected, DecoderState actual, int from, int to) {
        float[] a = new float[d.config().headDim()], b = new float[a.length];
        for (int l = 0; l < d.config().layers(); l++) {
            for (int pos = from; pos < to; pos++) {
                for (int h = 0; h < d.config().kvHeads(); h++) {
                    expected.key(l, pos, h, a, 0);
                    actual.key(l, pos, h, b, 0);
                    assertArrayEquals(a, b, "key of layer " + l + ", head " + h + " at " + pos);
                    expected.value(l, pos, h, a, 0);
                    actual.value(l, pos, h, b, 0);
                    assertArrayEquals(a, b, "value of layer " + l + ", head " + h + " at " + pos);
                }
            }
        }
    }

    @Test
    void aShallowStepLeavesTheLayersAboveForTheDeepStep() {
        LlamaDecoder d = tinyLlama();
        DecoderState s = d.newState(32, 8);
        d.forward(s, Arrays.copyOf(TOKENS, 3));
        d.begin(s, TOKENS, 3, 1);
        d.layer(s, 0);
        float[] h = Arrays.copyOf(s.hidden(), d.config().hidden());
        d.finishShallow(s);
        d.begin(s, TOKENS, 4, 1);
        d.layer(s, 0);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.layer(s, 1));
        assertTrue(e.getMessage().contains("layer 1 has KV for 3 positions"), e.getMessage());
        d.finishShallow(s);
        assertThrows(IllegalArgumentException.class, () -> d.beginDeep(s, 3, 3, new float[3 * d.config().hidden()], 0, 1),
                "position 5 was never run");
        IllegalStateException deeper = assertThrows(IllegalStateException.class, () -> d.beginDeep(s, 3, 1, h, 0, 0));
        assertTrue(deeper.getMessage().contains("layer 0 has KV for 5 positions"), deeper.getMessage());
        d.beginDeep(s, 3, 1, h, 0, 1);
        d.layer(s, 1);
        d.finish(s);
        assertEquals(4, s.length());
    }

    @Test
    void stepsMustGoInOrderAndFillEveryLayer() {
        LlamaDecoder d = tinyLlama();
        DecoderState s = d.newState(16, 4);
        assertThrows(IllegalStateException.class, () -> d.layer(s, 0), "no step begun");
        d.begin(s, TOKENS, 0, 3);
        assertTrue(assertThrows(IllegalStateException.class, () -> d.layer(s, 1)).getMessage().contains("layer 0 is next"));
        assertThrows(IllegalStateException.class, () -> d.begin(s, TOKENS, 0, 1), "a step in flight");
        d.layer(s, 0);
        String m = assertThrows(IllegalStateException.class, () -> d.finish(s)).getMessage();
        assertTrue(m.contains("layers 1..1 have no KV"), m);
        d.propagateKv(s, 1);
        d.finish(s);
        assertEquals(3, s.length());
        assertThrows(IllegalArgumentException.class, () -> d.begin(s, TOKENS, 0, 5), "more than maxStep");
        assertThrows(IllegalArgumentException.class, () -> d.begin(s, new int[]{432}, 0, 1), "outside the vocabulary");
        DecoderState full = d.newState(4, 4);
        d.forward(full, new int[]{1, 2, 3});
        m = assertThrows(IllegalArgumentException.class, () -> d.begin(full, new int[]{1, 2}, 0, 2)).getMessage();
        assertTrue(m.contains("would reach 5 positions"), m);
        assertThrows(IllegalArgumentException.class, () -> d.newState(257, 1), "beyond max_position_embeddings");
        assertThrows(IllegalArgumentException.class, () -> tinyLlama().layer(s, 0), "a state of another model");
    }

    @Test
    void resetAndTruncateReuseTheState() {
        LlamaDecoder d = tinyLlama();
        DecoderState s = d.newState(16, 16);
        float[] first = d.forward(s, TOKENS);
        s.reset();
        assertArrayEquals(first, d.forward(s, TOKENS), "same logits after reset");
        s.truncate(7);
        float[] resumed = d.forward(s, Arrays.copyOfRange(TOKENS, 7, TOKENS.length));
        assertArrayEquals(first, resumed, "the first 7 positions' cache is reused");
        assertThrows(IllegalArgumentException.class, () -> s.truncate(13));
    }

    /** One model, four threads, each with its own state: each gets the single-threaded logits. */
    @Test
    void oneModelServesManyStates() throws Exception {
        LlamaDecoder d = tinyLlama();
        List<float[]> want = new ArrayList<>();
        for (int k = 0; k < 4; k++) want.add(d.forward(d.newState(16, 16), Arrays.copyOfRange(TOKENS, k, TOKENS.length)));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<float[]>> got = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                int from = k;
                got.add(pool.submit(() -> {
                    DecoderState s = d.newState(16, 1);
                    float[] last = null;
                    for (int i = from; i < TOKENS.length; i++) last = d.forward(s, new int[]{TOKENS[i]});
                    return last;
                }));
            }
            for (int k = 0; k < 4; k++) assertArrayEquals(want.get(k), got.get(k).get(), 1e-5f, "thread " + k);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void llama3RopeScalingKeepsHighSlowsLowAndBlendsMiddleFrequencies() {
        DecoderConfig base = DecoderFolderLoader.load(DecoderGoldenTest.folder("tiny-llama")).config();
        assertEquals(DecoderConfig.RopeScaling.LLAMA3, base.ropeScaling().type());
        DecoderConfig plain = new DecoderConfig(base.modelType(), base.vocabSize(), base.hidden(), base.intermediate(),
                base.layers(), base.heads(), base.kvHeads(), base.headDim(), base.maxPositions(), base.rmsNormEps(),
                base.ropeTheta(), null, false, false, -1, List.of());
        double[] scaled = Rope.inverseFrequencies(base), raw = Rope.inverseFrequencies(plain);
        int kept = 0, slowed = 0, blended = 0;
        for (int i = 0; i < raw.length; i++) {
            double wavelen = 2 * Math.PI / raw[i];
            if (wavelen < 32.0 / 4) { assertEquals(raw[i], scaled[i], 0); kept++; }
            else if (wavelen > 32.0) { assertEquals(raw[i] / 8, scaled[i], 1e-15); slowed++; }
            else { assertTrue(scaled[i] < raw[i] && scaled[i] > raw[i] / 8); blended++; }
        }
        assertTrue(kept > 0 && slowed > 0 && blended > 0, kept + " kept, " + slowed + " slowed, " + blended + " blended");
        assertEquals(10000.0, 1 / raw[1] * 0 + Math.pow(raw[0] / raw[1], base.headDim() / 2.0), 1e-6, "θ_i = base^(-2i/HS)");
    }

    @Test
    void parameterCountIsEveryArray() {
        for (String name : List.of("tiny-llama", "tiny-qwen2")) {
            DecoderWeights w = DecoderFolderLoader.load(DecoderGoldenTest.folder(name)).weights();
            long n = w.tokenEmbeddings.length + w.finalNorm.length + (w.lmHead == null ? 0 : w.lmHead.length);
            for (DecoderWeights.Layer l : w.layers) {
                for (float[] a : Arrays.asList(l.attnNorm, l.wq, l.bq, l.wk, l.bk, l.wv, l.bv, l.wo, l.mlpNorm, l.wGate,
                        l.wUp, l.wDown)) {
                    n += a == null ? 0 : a.length;
                }
            }
            assertEquals(n, w.config.parameterCount(), name);
        }
    }
}
