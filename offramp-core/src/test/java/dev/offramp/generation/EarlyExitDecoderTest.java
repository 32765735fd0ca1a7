package dev.offramp.generation;

import dev.offramp.decoder.DecoderState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class EarlyExitDecoderTest {
    static final int L = TinyLm.LAYERS;

    static List<int[]> prompts(int n) {
        return GenerationEval.prompts(TinyLm.heldOut(200), n, 12);
    }

    @Test
    void oracleAgreesFullyAndBoundsEveryCriterion() {
        EarlyExitDecoder d = TinyLm.decoder();
        List<ThresholdCalibration.Reference> refs = ThresholdCalibration.references(d, prompts(6), 16);
        ThresholdCalibration.Point oracle = ThresholdCalibration.measure(d, refs, new TokenCriteria.Oracle(), KvMode.PROPAGATE);
        assertEquals(1.0, oracle.agreement(), 1e-12, "the oracle emits the full-depth token by construction");
        assertTrue(oracle.meanExitLayer() < L, "some tokens are right before the last layer: " + oracle);
        List<TokenExitCriterion> others = List.of(new TokenCriteria.TopProb(0.3), new TokenCriteria.TopMargin(0.2),
                new TokenCriteria.Saturation(0.8), new TokenCriteria.Static(1), new TokenCriteria.Static(L - 1));
        boolean someDisagree = false;
        for (TokenExitCriterion c : others) {
            ThresholdCalibration.Point p = ThresholdCalibration.measure(d, refs, c, KvMode.PROPAGATE);
            assertTrue(oracle.agreement() >= p.agreement(), c.describe() + ": " + p);
            someDisagree |= p.agreement() < 1;
        }
        assertTrue(someDisagree, "exiting at layer 1 must change some tokens, else the bound says nothing");
        // static(1) is at least as shallow as the oracle and (since it disagrees) strictly shallower
        ThresholdCalibration.Point first = ThresholdCalibration.measure(d, refs, new TokenCriteria.Static(1), KvMode.PROPAGATE);
        assertEquals(1.0, first.meanExitLayer(), 1e-12);
    }

    @Test
    void neverExitingGivesFullDepthOutputInEveryMode() {
        EarlyExitDecoder d = TinyLm.decoder();
        int[] prompt = prompts(1).get(0);
        EarlyExitDecoder.Session s = d.newSession(prompt.length + 20, prompt.length);
        int[] full = d.generate(s, prompt, 20, TokenCriteria.full(), KvMode.PROPAGATE, null).tokens();
        // reference: the plain engine, re-running the whole sequence at full depth for every token
        List<Integer> seq = new ArrayList<>();
        for (int t : prompt) seq.add(t);
        for (int i = 0; i < full.length; i++) {
            int[] ids = seq.stream().mapToInt(Integer::intValue).toArray();
            DecoderState st = d.model().newState(ids.length, ids.length);
            int next = TokenMath.argmax(d.model().forward(st, ids));
            assertEquals(next, full[i], "token " + i);
            seq.add(next);
        }
        for (KvMode m : KvMode.values()) {
            assertArrayEquals(full, d.generate(s, prompt, 20, new TokenCriteria.TopProb(2.0), m, null).tokens(), m.id());
        }
    }

    /**
     * Speculative decoding emits full depth's greedy tokens exactly, for every draft exit and several row counts,
     * and on this model both branches run: some drafts are kept (more than one token per verification) and some are
     * refused (fewer than the rows).
     */
    @Test
    void speculativeDecodingEmitsExactlyFullDepthsGreedyTokens() {
        EarlyExitDecoder d = TinyLm.decoder();
        List<int[]> prompts = prompts(4);
        EarlyExitDecoder.Session s = d.newSession(12 + 30, 12);
        for (int[] prompt : prompts) {
            int[] full = d.generate(s, prompt, 30, TokenCriteria.full(), KvMode.PROPAGATE, null).tokens();
            for (int layer = 1; layer < L; layer++) {
                for (int rows : new int[]{2, 3, 5, TokenCriteria.Speculative.MAX_ROWS}) {
                    TokenCriteria.Speculative c = new TokenCriteria.Speculative(layer, rows);
                    List<Integer> streamed = new ArrayList<>();
                    EarlyExitDecoder.Generated g = d.generate(s, prompt, 30, c, KvMode.PROPAGATE, (t, e) -> streamed.add(t));
                    assertArrayEquals(full, g.tokens(), c.describe());
                    assertArrayEquals(full, streamed.stream().mapToInt(Integer::intValue).toArray(), "streamed, " + c.describe());
                    assertTrue(Arrays.stream(g.exitLayers()).allMatch(e -> e == L), "every emitted token is full depth's");
                    assertTrue(g.verifications() > 0 && g.tokensPerVerification() >= 1 && g.tokensPerVerification() <= rows,
                            c.describe() + ": " + g.tokensPerVerification());
                }
            }
        }
        double kept = 0;
        int cycles = 0, runs = 0;
        for (int[] prompt : prompts) {
            EarlyExitDecoder.Generated g = d.generate(s, prompt, 30, new TokenCriteria.Speculative(L - 1, 4), KvMode.PROPAGATE, null);
            kept += g.tokens().length - 1;
            cycles += g.verifications();
            runs++;
        }
        double perVerification = kept / cycles;
        assertTrue(perVerification > 1.2 && perVerification < 3.9, "drafts both kept and refused over " + runs + " prompts: "
                + perVerification + " tokens per verification");
        assertThrows(IllegalArgumentException.class, () -> d.generate(s, prompts.get(0), 5, new TokenCriteria.Speculative(L, 4),
                KvMode.PROPAGATE, null));
        assertThrows(IllegalArgumentException.class, () -> new TokenCriteria.Speculative(1, 1));
    }

    @Test
    void exactModeKeepsTheFullDepthCacheWhileTheTokensComeFromTheExit() {
        EarlyExitDecoder d = TinyLm.decoder();
        int[] doc = TinyLm.heldOut(200).stream().filter(x -> x.length > 30).findFirst().orElseThrow();
        int[] prompt = Arrays.copyOf(doc, 6), text = Arrays.copyOfRange(doc, 6, 26);
        EarlyExitDecoder.Session s = d.newSession(32, 6);
        EarlyExitDecoder.Forced exact = d.force(s, prompt, text, new TokenCriteria.Static(1), KvMode.EXACT);
        for (int i = 1; i < text.length; i++) assertEquals(1, exact.exitLayers()[i]);
        // the cache of the last layer equals a full-depth pass over the same tokens
        int[] all = Arrays.copyOf(doc, 6 + text.length - 1);
        DecoderState ref = d.model().newState(all.length, all.length);
        d.model().forward(ref, all);
        float[] a = new float[d.model().config().headDim()], b = new float[a.length];
        for (int pos = 0; pos < all.length; pos++) {
            s.state.key(L - 1, pos, 0, a, 0);
            ref.key(L - 1, pos, 0, b, 0);
            for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], 1e-4 * (1 + Math.abs(b[i])), "pos " + pos);
        }
        // and the first layer's distributions differ from full depth's: the exit did change what was predicted
        EarlyExitDecoder.Forced full = d.force(s, prompt, text, TokenCriteria.full(), KvMode.EXACT);
        assertNotEquals(full.nll(), exact.nll());
    }

    /**
     * Odd tokens exit after layer 1, even ones run every layer: the full-depth tokens then attend to the propagated
     * keys and values of the odd ones (with a static exit nobody would ever read them).
     */
    static final class EveryOther implements TokenExitCriterion {
        int calls;

        public String name() { return "every-other"; }
        public String describe() { return name(); }
        public double threshold() { return Double.NaN; }

        public boolean exitAfter(LayerSignals s) {
            if (s.layer() == 1) calls++;
            return calls % 2 == 1;
        }
    }

    @Test
    void propagationWithAndWithoutTheInputNormDiffer() {
        EarlyExitDecoder d = TinyLm.decoder();
        int[] doc = TinyLm.heldOut(200).stream().filter(x -> x.length > 40).findFirst().orElseThrow();
        int[] prompt = Arrays.copyOf(doc, 4), text = Arrays.copyOfRange(doc, 4, 40);
        EarlyExitDecoder.Session s = d.newSession(44, 4);
        TokenExitCriterion two = new EveryOther();
        double withNorm = d.force(s, prompt, text, two, KvMode.PROPAGATE).nll();
        double without = d.force(s, prompt, text, two, KvMode.PROPAGATE_WITHOUT_NORM).nll();
        double exact = d.force(s, prompt, text, two, KvMode.EXACT).nll();
        assertNotEquals(withNorm, without, 1e-6);
        assertNotEquals(withNorm, exact, 1e-6);
        assertTrue(Double.isFinite(withNorm) && Double.isFinite(without));
    }

    @Test
    void generationStreamsTokensAndTheirExitLayers() {
        EarlyExitDecoder d = TinyLm.decoder();
        int[] prompt = prompts(1).get(0);
        EarlyExitDecoder.Session s = d.newSession(prompt.length + 16, prompt.length);
        List<int[]> seen = new ArrayList<>();
        EarlyExitDecoder.Generated g = d.generate(s, prompt, 16, new TokenCriteria.Static(2), KvMode.PROPAGATE,
                (t, e) -> seen.add(new int[]{t, e}));
        assertEquals(g.tokens().length, seen.size());
        for (int i = 0; i < seen.size(); i++) {
            assertEquals(g.tokens()[i], seen.get(i)[0]);
            assertEquals(g.exitLayers()[i], seen.get(i)[1]);
        }
        assertEquals(L, g.exitLayers()[0], "the first token comes from the prompt's full-depth pass");
        for (int i = 1; i < g.exitLayers().length; i++) assertEquals(2, g.exitLayers()[i]);
    }
}
