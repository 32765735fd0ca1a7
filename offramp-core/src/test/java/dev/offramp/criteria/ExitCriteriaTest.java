package dev.offramp.criteria;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each criterion's rule on hand-made exit outputs. */
class ExitCriteriaTest {

    /** Binary probabilities with max {@code c} on class {@code cls}. */
    static float[] p(int cls, float c) {
        return cls == 0 ? new float[] {c, 1f - c} : new float[] {1f - c, c};
    }

    /** Feeds layers 1..L until the decider exits; returns the exit layer. */
    static int exitLayer(ExitCriterion.Decider d, float[][] exits, float[] policy) {
        d.reset();
        for (int layer = 1; layer <= exits.length; layer++) {
            float pi = policy == null ? Float.NaN : policy[layer - 1];
            if (d.observe(layer, exits[layer - 1], 0, pi)) return layer;
        }
        throw new AssertionError("decider never exited");
    }

    static int exitLayer(ExitCriterion c, float[][] exits) {
        return exitLayer(c.start(exits.length, exits[0].length), exits, null);
    }

    @Test
    void argmaxTiesGoToLowestIndex() {
        assertEquals(0, ExitMath.argmax(new float[] {0.5f, 0.5f}, 0, 2));
        assertEquals(1, ExitMath.argmax(new float[] {0.2f, 0.4f, 0.4f}, 0, 3));
        assertEquals(2, ExitMath.argmax(new float[] {9f, 0.1f, 0.2f, 0.7f}, 1, 3));  // offset honoured
        assertEquals(Math.log(2), ExitMath.entropy(new float[] {0.5f, 0.5f}, 0, 2), 1e-12);
        assertEquals(0.0, ExitMath.entropy(new float[] {1f, 0f}, 0, 2));
    }

    @Test
    void maxProbExitsAtFirstLayerWithConfidenceAtLeastTau() {
        float[][] exits = {p(0, 0.7f), p(1, 0.75f), p(1, 0.99f), p(1, 0.99f)};
        assertEquals(2, exitLayer(new MaxProbCriterion(0.75), exits));  // c exactly = τ exits
        assertEquals(3, exitLayer(new MaxProbCriterion(0.76), exits));
        assertEquals(1, exitLayer(new MaxProbCriterion(0.7), exits));
        // τ given as a double that is not a float: compared in float, so 0.9 and 0.9f are equal
        assertEquals(1, exitLayer(new MaxProbCriterion(0.9), new float[][] {p(0, 0.9f), p(0, 0.5f)}));
        // never confident enough: ends at L
        assertEquals(4, exitLayer(new MaxProbCriterion(1.0), exits));
    }

    @Test
    void maxProbAndEntropyRefuseRegression() {
        var e = assertThrows(IllegalArgumentException.class, () -> new MaxProbCriterion(0.9).start(12, 1));
        assertTrue(e.getMessage().contains("regression"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new EntropyCriterion(0.3).start(12, 1));
    }

    @Test
    void entropyExitsStrictlyBelowThreshold() {
        float[][] exits = {p(0, 0.5f), p(0, 0.9f), p(0, 1f), p(0, 1f)};
        double a = 0.9f, b = 1f - 0.9f;                         // the floats as stored, widened
        double h2 = 0.0 - a * Math.log(a) - b * Math.log(b);      // ≈ 0.325, summed in ExitMath's order
        assertEquals(1, exitLayer(new EntropyCriterion(0.7), exits));          // ln 2 ≈ 0.693 < 0.7
        assertEquals(2, exitLayer(new EntropyCriterion(0.69), exits));
        assertEquals(3, exitLayer(new EntropyCriterion(h2), exits));           // H_2 = S is not < S
        assertEquals(4, exitLayer(new EntropyCriterion(0.0), exits));          // H = 0 is not < 0: never early
        ExitCriterion.Decider d = new EntropyCriterion(0.69).start(4, 2);
        d.reset();
        d.observe(1, exits[0]);
        assertEquals(Math.log(2), d.statistic(), 1e-7);
    }

    @Test
    void patienceCountsLikePabee() {
        // predictions by layer: 0 1 1 0 0 0 1 1
        int[] classes = {0, 1, 1, 0, 0, 0, 1, 1};
        float[][] exits = new float[8][];
        for (int i = 0; i < 8; i++) exits[i] = p(classes[i], 0.8f);
        // counter after each layer: 0 0 1 0 1 2 0 1
        assertEquals(3, exitLayer(new PatienceCriterion(1), exits));  // P=1: two consecutive agreeing exits
        assertEquals(6, exitLayer(new PatienceCriterion(2), exits));
        assertEquals(8, exitLayer(new PatienceCriterion(3), exits));  // never reaches 3: the last layer exits
        assertEquals(1, exitLayer(new PatienceCriterion(0), exits));  // counter 0 == P at layer 1
        ExitCriterion.Decider d = new PatienceCriterion(5).start(8, 2);
        d.reset();
        int[] expected = {0, 0, 1, 0, 1, 2, 0, 1};
        for (int layer = 1; layer <= 8; layer++) {
            d.observe(layer, exits[layer - 1]);
            assertEquals(expected[layer - 1], d.statistic(), "counter after layer " + layer);
        }
    }

    @Test
    void patienceOnRegressionUsesDeltaStrictly() {
        float[][] scores = {{1.0f}, {1.5f}, {1.625f}, {1.6875f}, {1.75f}, {4f}};
        // |Δ|: 0.5, 0.125, 0.0625, 0.0625, 2.25 (all exact in float)
        assertEquals(4, exitLayer(new PatienceCriterion(1, 0.1), scores));      // 0.0625 < 0.1 at layer 4
        assertEquals(3, exitLayer(new PatienceCriterion(1, 0.126), scores));
        assertEquals(4, exitLayer(new PatienceCriterion(1, 0.125), scores));    // 0.125 is not < 0.125
        assertEquals(5, exitLayer(new PatienceCriterion(2, 0.1), scores));
        assertEquals(6, exitLayer(new PatienceCriterion(3, 0.1), scores));      // ends at L
        assertThrows(IllegalArgumentException.class, () -> new PatienceCriterion(1).start(6, 1));
    }

    // Exactly representable values: w = (0.25, 0.5, 0.75, 1); predictions 0 0 1 1; c = 0.75, 0.625, 0.875, 0.75.
    static final float[][] BEEM_EXITS = {p(0, 0.75f), p(0, 0.625f), p(1, 0.875f), p(1, 0.75f)};

    static double[] beemScores(BeemCriterion.Reset reset) {
        double[] never = {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
        ExitCriterion.Decider d = new BeemCriterion(BeemCriterion.costWeights(4), never, reset).start(4, 2);
        d.reset();
        double[] s = new double[4];
        for (int layer = 1; layer <= 4; layer++) {
            boolean exit = d.observe(layer, BEEM_EXITS[layer - 1]);
            assertEquals(layer == 4, exit, "thresholds +inf: only the last layer exits");
            s[layer - 1] = d.statistic();
        }
        return s;
    }

    @Test
    void beemAccumulatesWhileNeighboursAgreeAndRestartsFromCurrentExpert() {
        // S1 = .25·.75 = .1875; S2 = .1875 + .5·.625 = .5; disagree: S3 = .75·.875 = .65625; S4 = .65625 + .75
        assertArrayEquals(new double[] {0.1875, 0.5, 0.65625, 1.40625}, beemScores(BeemCriterion.Reset.CURRENT));
    }

    @Test
    void beemZeroResetDropsTheDisagreeingExpertToo() {
        // disagree at 3: S3 = 0 (nothing added), then S4 = 0 + 1·.75 (4 agrees with 3)
        assertArrayEquals(new double[] {0.1875, 0.5, 0.0, 0.75}, beemScores(BeemCriterion.Reset.ZERO));
    }

    @Test
    void beemExitsAtFirstScoreReachingItsThreshold() {
        double[] w = BeemCriterion.costWeights(4);
        assertArrayEquals(new double[] {0.25, 0.5, 0.75, 1.0}, w);
        var cur = BeemCriterion.Reset.CURRENT;
        var zero = BeemCriterion.Reset.ZERO;
        assertEquals(2, exitLayer(BeemCriterion.global(w, 0.5, cur), BEEM_EXITS));  // S2 = α exactly exits
        assertEquals(3, exitLayer(BeemCriterion.global(w, 0.6, cur), BEEM_EXITS));
        assertEquals(4, exitLayer(BeemCriterion.global(w, 0.6, zero), BEEM_EXITS)); // S3 = 0 under ZERO
        assertEquals(4, exitLayer(BeemCriterion.global(w, 2.0, cur), BEEM_EXITS));  // never early: ends at L
        // per-exit thresholds: α = (0.1, 0.6, 0.6) → S1 = .1875 ≥ .1
        assertEquals(1, exitLayer(new BeemCriterion(w, new double[] {0.1, 0.6, 0.6}, cur), BEEM_EXITS));
        assertEquals(3, exitLayer(new BeemCriterion(w, new double[] {0.2, 0.6, 0.6}, cur), BEEM_EXITS));
        // weights of the wrong length for the model
        assertThrows(IllegalArgumentException.class, () -> BeemCriterion.global(w, 0.5, cur).start(12, 2));
    }

    @Test
    void beemOnRegressionIsWeightedPatience() {
        float[][] scores = {{1.0f}, {1.05f}, {3f}, {3.01f}, {3.02f}};
        double[] w = {1, 1, 1, 1, 1};
        // runs of agreement (δ = 0.1): S = 1, 2, 1 (disagree → restart), 2, 3
        BeemCriterion c = BeemCriterion.global(w, 2.5, BeemCriterion.Reset.CURRENT);
        BeemCriterion reg = new BeemCriterion(w, c.alphas(), BeemCriterion.Reset.CURRENT, 0.1);
        assertEquals(5, exitLayer(reg, scores));
        assertEquals(2, exitLayer(reg.withAlphas(new double[] {2, 2, 2, 2}), scores));
        assertThrows(IllegalArgumentException.class, () -> c.start(5, 1));  // no δ
    }

    @Test
    void staticAndOracle() {
        float[][] exits = {p(0, 0.9f), p(0, 0.9f), p(1, 0.6f), p(0, 0.9f)};
        assertEquals(3, exitLayer(new StaticCriterion(3), exits));
        assertEquals(4, exitLayer(new StaticCriterion(4), exits));
        assertThrows(IllegalArgumentException.class, () -> new StaticCriterion(5).start(4, 2));

        ExitCriterion.Decider oracle = new OracleCriterion().start(4, 2);
        oracle.reset(1f);
        assertFalse(oracle.observe(1, exits[0]));
        assertFalse(oracle.observe(2, exits[1]));
        assertTrue(oracle.observe(3, exits[2]));                     // first correct prediction
        oracle.reset(0f);
        assertTrue(oracle.observe(1, exits[0]));
    }

    @Test
    void oracleNeedsGoldAndFallsBackToLastLayer() {
        float[][] exits = {p(0, 0.9f), p(0, 0.9f), p(0, 0.6f)};
        ExitCriterion.Decider d = new OracleCriterion().start(3, 2);
        d.reset(1f);
        assertFalse(d.observe(1, exits[0]));
        assertFalse(d.observe(2, exits[1]));
        assertTrue(d.observe(3, exits[2]));  // never correct: the last layer
        d.reset();                           // no gold
        assertThrows(IllegalStateException.class, () -> d.observe(1, exits[0]));
        ExitCriterion.Decider reg = new OracleCriterion(0.25).start(3, 1);
        reg.reset(2.0f);
        assertFalse(reg.observe(1, new float[] {1.5f}));
        assertTrue(reg.observe(2, new float[] {2.25f}));
    }

    @Test
    void consistentEeExitsWhenPolicyReachesTau() {
        float[][] exits = {p(0, 0.9f), p(0, 0.9f), p(0, 0.9f), p(0, 0.9f)};
        float[] pi = {0.2f, 0.5f, 0.9f, Float.NaN};
        assertEquals(2, exitLayer(new ConsistentEeCriterion().start(4, 2), exits, pi));     // π = τ exits
        assertEquals(3, exitLayer(new ConsistentEeCriterion(0.6).start(4, 2), exits, pi));
        assertEquals(4, exitLayer(new ConsistentEeCriterion(0.95).start(4, 2), exits, pi)); // NaN at L is fine
        ExitCriterion.Decider d = new ConsistentEeCriterion().start(4, 2);
        d.reset();
        assertThrows(IllegalArgumentException.class, () -> d.observe(1, exits[0]));        // π missing
    }

    @Test
    void decidersCheckLayerOrderAndCanBeReused() {
        ExitCriterion.Decider d = new PatienceCriterion(1).start(4, 2);
        d.reset();
        d.observe(1, p(0, 0.9f));
        assertThrows(IllegalArgumentException.class, () -> d.observe(1, p(0, 0.9f)));
        assertThrows(IllegalArgumentException.class, () -> d.observe(5, p(0, 0.9f)));
        assertTrue(d.observe(2, p(0, 0.9f)));
        assertThrows(IllegalStateException.class, () -> d.observe(3, p(0, 0.9f)));  // already exited
        d.reset();
        assertFalse(d.observe(1, p(1, 0.9f)));  // fresh state: no previous exit
        assertFalse(d.observe(2, p(0, 0.9f)));
        assertTrue(d.observe(3, p(0, 0.9f)));
    }

    @Test
    void settingsRebuildEqualCriteria() {
        ExitCriterion[] all = {new MaxProbCriterion(0.9), new EntropyCriterion(0.3), new PatienceCriterion(3),
                new PatienceCriterion(2, 0.1), new StaticCriterion(6), new OracleCriterion(),
                new ConsistentEeCriterion(0.7),
                new BeemCriterion(BeemCriterion.costWeights(3), new double[] {0.5, Double.POSITIVE_INFINITY},
                        BeemCriterion.Reset.ZERO)};
        for (ExitCriterion c : all) {
            assertEquals(c, Criteria.fromSettings(c.settings()), c.describe());
        }
        var e = assertThrows(IllegalArgumentException.class,
                () -> Criteria.fromSettings(CriterionSettings.of("max-prob")));
        assertTrue(e.getMessage().contains("tau"), e.getMessage());
    }

    static void assertArrayEquals(double[] expected, double[] actual) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, actual, 1e-12);
    }
}
