package dev.offramp.generation;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Each criterion's decision against the number computed by hand from the same layer's signals. */
class TokenCriteriaTest {

    @Test
    void topTwoProbabilitiesByHand() {
        float[] logits = {(float) Math.log(0.1), (float) Math.log(0.2), (float) Math.log(0.4), (float) Math.log(0.3)};
        double[] p = TokenMath.topTwoProbabilities(logits);
        assertEquals(0.4, p[0], 1e-6);
        assertEquals(0.3, p[1], 1e-6);
        assertEquals(2, TokenMath.argmax(logits));
        assertEquals(Math.log(0.3), TokenMath.logProbability(logits, 3), 1e-6);
        assertEquals(0.6, TokenMath.cosine(new float[]{1, 0}, new float[]{3, 4}, 2), 1e-12);
    }

    /** Records, at every layer of every token, whether each criterion agrees with the hand rule at τ just around it. */
    private static final class Checker implements TokenExitCriterion {
        final List<String> failures = new ArrayList<>();
        int checks;

        public String name() { return "checker"; }
        public String describe() { return name(); }
        public double threshold() { return Double.NaN; }

        public boolean exitAfter(LayerSignals s) {
            float[] logits = s.logits();
            double max = Double.NEGATIVE_INFINITY;
            for (float l : logits) max = Math.max(max, l);
            double sum = 0;
            double[] p = new double[logits.length];
            for (int i = 0; i < logits.length; i++) sum += p[i] = Math.exp(logits[i] - max);
            double p1 = 0, p2 = 0;
            for (double v : p) {
                v /= sum;
                if (v > p1) { p2 = p1; p1 = v; } else if (v > p2) p2 = v;
            }
            float[] h = s.hidden(), g = s.previousHidden();
            double dot = 0, hh = 0, gg = 0;
            for (int i = 0; i < g.length; i++) { dot += h[i] * g[i]; hh += h[i] * h[i]; gg += g[i] * g[i]; }
            double cos = dot / Math.sqrt(hh * gg);
            check(new TokenCriteria.TopProb(p1 - 1e-5), s, true);
            check(new TokenCriteria.TopProb(p1 + 1e-5), s, false);
            check(new TokenCriteria.TopMargin(p1 - p2 - 1e-5), s, true);
            check(new TokenCriteria.TopMargin(p1 - p2 + 1e-5), s, false);
            check(new TokenCriteria.Saturation(cos - 1e-6), s, true);
            check(new TokenCriteria.Saturation(cos + 1e-6), s, false);
            check(new TokenCriteria.Static(s.layer()), s, true);
            check(new TokenCriteria.Static(s.layer() + 1), s, false);
            double[] fast = s.topTwoProbabilities();
            if (Math.abs(fast[0] - p1) > 1e-6 || Math.abs(fast[1] - p2) > 1e-6) {
                failures.add("vectorised top two " + fast[0] + ", " + fast[1] + " vs " + p1 + ", " + p2);
            }
            if (cos > 0.9999) failures.add("a layer that leaves the hidden state unchanged: the saturation check is vacuous");
            return false;
        }

        void check(TokenExitCriterion c, LayerSignals s, boolean want) {
            checks++;
            if (c.exitAfter(s) != want) failures.add(c.describe() + " at layer " + s.layer() + " should say " + want);
        }
    }

    @Test
    void decisionsMatchTheHandComputedStatistics() {
        EarlyExitDecoder d = TinyLm.decoder();
        Checker checker = new Checker();
        int[] prompt = EarlyExitDecoderTest.prompts(1).get(0);
        EarlyExitDecoder.Session s = d.newSession(prompt.length + 12, prompt.length);
        EarlyExitDecoder.Generated g = d.generate(s, prompt, 12, checker, KvMode.PROPAGATE, null);
        assertEquals(12, g.tokens().length, "the checker never exits and there is no EOS so early in a document");
        assertEquals(11 * (TinyLm.LAYERS - 1) * 8, checker.checks);
        assertTrue(checker.failures.isEmpty(), checker.failures.toString());
        // the checker never exits: every generated token after the first ran all layers
        for (int e : g.exitLayers()) assertEquals(TinyLm.LAYERS, e);
    }

    @Test
    void namesAndErrors() {
        assertEquals("top-prob(tau=0.9)", TokenCriteria.of("top-prob", 0.9, null).describe());
        assertEquals("full", TokenCriteria.full().name());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenCriteria.of("entropy", 1, null));
        assertTrue(e.getMessage().contains("top-margin"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TokenCriteria.of("consistentee", 0.5, null));
        assertTrue(e.getMessage().contains("train-lm-policy"), e.getMessage());
    }
}
