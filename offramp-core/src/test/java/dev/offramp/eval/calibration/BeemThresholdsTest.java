package dev.offramp.eval.calibration;

import dev.offramp.criteria.BeemCriterion;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Thresholds from error rates on a 10-sample, 3-exit case worked out by hand. Gold is class 0 for everyone;
 * weights w = (0.5, 1, 1).
 * <pre>
 * sample  exit 1 (class, c)   S_1      exit 2 (class, c)  S_2 (current)       exit 3
 *   0       0 .95  right      .475       0 .9                                  0 .9
 *   1       0 .90  right      .45        0 .9                                  0 .9
 *   2       0 .85  right      .425       0 .9                                  0 .9
 *   3       0 .80  right      .40        0 .9                                  0 .9
 *   4       1 .75  WRONG      .375       0 .9  (disagree)  .9    (zero: 0)     0 .9
 *   5       0 .70  right      .35        0 .9              1.25                0 .9
 *   6       0 .65  right      .325       0 .6              .925                0 .9
 *   7       0 .60  right      .30        1 .9  WRONG       .9    (zero: 0)     0 .9
 *   8       0 .55  right      .275       0 .8              1.075               0 .9
 *   9       1 .52  WRONG      .26        1 .7  WRONG       .96                 1 .8  WRONG
 * </pre>
 * p = 1/10. ε = 0 (target .1), exit 1: the sets {S_1 ≥ α} from the top have errors 0/1..0/4, 1/5..1/9, 2/10,
 * so α_1 = S_1 of sample 3 = .4; samples 0–3 leave. Exit 2 on samples 4–9, by S_2: 5 (right), 8 (right), 9 (wrong),
 * 6, then 4 and 7 tied at .9 → 0/1, 0/2, 1/3, 1/4, 2/6 → α_2 = S_2 of sample 8 = 1.075.
 * ε = 0.5 (target .15): 1/7 ≤ .15 but 2/10 is not, so α_1 = S_1 of sample 8 = .275 (the error rate is not
 * monotone: 1/5 and 1/6 fail, 1/7..1/9 pass). ε = 1 (target .2): 2/10 passes, α_1 = .26, everyone leaves at
 * exit 1, nobody reaches exit 2 → α_2 = +∞.
 */
class BeemThresholdsTest {
    static final double[] W = {0.5, 1, 1};

    static float[] p(int cls, float c) {
        return cls == 0 ? new float[] {c, 1f - c} : new float[] {1f - c, c};
    }

    static ExitOutputs handCase() {
        int[] c1 = {0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
        float[] p1 = {.95f, .9f, .85f, .8f, .75f, .7f, .65f, .6f, .55f, .52f};
        int[] c2 = {0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
        float[] p2 = {.9f, .9f, .9f, .9f, .9f, .9f, .6f, .9f, .8f, .7f};
        float[][][] probs = new float[10][][];
        for (int s = 0; s < 10; s++) {
            probs[s] = new float[][] {p(c1[s], p1[s]), p(c2[s], p2[s]), s == 9 ? p(1, .8f) : p(0, .9f)};
        }
        return ExitOutputs.of(probs, new float[10]);
    }

    static BeemCriterion template(BeemCriterion.Reset reset) {
        return new BeemCriterion(W, new double[] {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY}, reset);
    }

    @Test
    void scoresMatchTheHandTable() {
        double[] s = BeemThresholds.scores(handCase(), template(BeemCriterion.Reset.CURRENT));  // (10, 3)
        assertEquals(0.5 * .8f, s[3 * 3], 0.0);
        assertEquals(0.9f, s[4 * 3 + 1], 0.0);                          // disagreement: restart from exit 2
        assertEquals(0.5 * .7f + .9f, s[5 * 3 + 1], 0.0);
        assertEquals(0.5 * .52f + .7f, s[9 * 3 + 1], 0.0);
        double[] z = BeemThresholds.scores(handCase(), template(BeemCriterion.Reset.ZERO));
        assertEquals(0.0, z[4 * 3 + 1]);
        assertEquals(0.0, z[7 * 3 + 1]);
        assertEquals(s[5 * 3 + 1], z[5 * 3 + 1]);
    }

    @Test
    void thresholdsFromErrorRatesAtEpsilonZero() {
        ExitOutputs cache = handCase();
        for (BeemCriterion.Reset reset : BeemCriterion.Reset.values()) {
            BeemThresholds.Calibration cal = BeemThresholds.fromErrorRates(cache, template(reset), 0.0);
            assertEquals(0.1, cal.finalErrorRate(), 1e-12);
            assertEquals(0.5 * .8f, cal.alphas()[0], 0.0, reset.toString());
            assertEquals(0.5 * .55f + .8f, cal.alphas()[1], 0.0, reset.toString());
            assertEquals(1.075, cal.alphas()[1], 1e-6);
            assertArrayEquals(new double[] {0.2, 0.2, 0.1}, cal.exitErrorRates(), 1e-12);  // q_i next to p
            assertArrayEquals(new int[] {10, 6}, cal.reached());
            assertArrayEquals(new int[] {4, 2}, cal.exited());
            assertArrayEquals(new int[] {0, 0}, cal.exitErrors());
            assertTrue(cal.report().contains("p = 0.1000"), cal.report());

            SimulationResult r = Simulator.run(cache, cal.criterion());
            assertArrayEquals(new int[] {1, 1, 1, 1, 3, 2, 3, 3, 2, 3}, r.exitLayers());
            assertEquals(0.9, r.metric(), 1e-12);  // as accurate as the final exit
            assertEquals(1.5, r.layerSpeedup(), 1e-12);
        }
    }

    @Test
    void toleranceTradesAccuracyForSpeed() {
        ExitOutputs cache = handCase();
        BeemCriterion t = template(BeemCriterion.Reset.CURRENT);
        BeemThresholds.Calibration half = BeemThresholds.fromErrorRates(cache, t, 0.5);
        assertEquals(0.5 * .55f, half.alphas()[0], 0.0);   // not monotone: 1/7 passes, 2/10 fails
        assertArrayEquals(new int[] {9, 1}, new int[] {half.exited()[0], half.reached()[1]});
        BeemThresholds.Calibration one = BeemThresholds.fromErrorRates(cache, t, 1.0);
        assertEquals(0.5 * .52f, one.alphas()[0], 0.0);
        assertEquals(Double.POSITIVE_INFINITY, one.alphas()[1]);
        assertEquals(3.0, Simulator.run(cache, one.criterion()).layerSpeedup(), 1e-12);
        assertEquals(0.8, Simulator.run(cache, one.criterion()).metric(), 1e-12);
    }

    @Test
    void noQualifyingValueMeansNeverExit() {
        // every exit-1 prediction wrong, final exit perfect (p = 0): nothing may exit at 1
        float[][][] probs = {{p(1, .9f), p(0, .9f)}, {p(1, .8f), p(0, .9f)}};
        ExitOutputs cache = ExitOutputs.of(probs, new float[2]);
        BeemThresholds.Calibration cal = BeemThresholds.fromErrorRates(cache,
                new BeemCriterion(new double[] {1, 1}, new double[] {0}, BeemCriterion.Reset.CURRENT), 0.0);
        assertEquals(0.0, cal.finalErrorRate());
        assertEquals(Double.POSITIVE_INFINITY, cal.alphas()[0]);
        assertArrayEquals(new int[] {2, 2}, Simulator.run(cache, cal.criterion()).exitLayers());
    }

    @Test
    void searchModesOnHandCase() {
        ExitOutputs cache = handCase();
        Sweep sweep = new Sweep(cache, Metric.ACCURACY);
        BeemCriterion t = template(BeemCriterion.Reset.CURRENT);
        // drop 0: per-exit ε = 0 gives 0.9 at 1.5×; larger ε lose accuracy
        BeemCriterion perExit = BeemThresholds.forAccuracyDrop(sweep, t, 0.0, BeemThresholds.Mode.PER_EXIT);
        SimulationResult r = Simulator.run(cache, perExit);
        assertEquals(0.9, r.metric(), 1e-12);
        assertTrue(r.layerSpeedup() >= 1.5 - 1e-12, "speed-up " + r.layerSpeedup());
        // target speed-up 3: only "everyone at exit 1" is that fast
        BeemCriterion fast = BeemThresholds.forSpeedup(sweep, t, 3.0, BeemThresholds.Mode.PER_EXIT);
        assertEquals(3.0, Simulator.run(cache, fast).layerSpeedup(), 1e-12);
        // global α: the fastest single α at least as accurate as the full model
        BeemCriterion global = BeemThresholds.globalAlpha(sweep, t);
        SimulationResult g = Simulator.run(cache, global);
        assertTrue(g.metric() >= 0.9 - 1e-12);
        double[] a = global.alphas();
        assertEquals(a[0], a[1], 0.0, Arrays.toString(a));
        // exhaustive check over every S value as α: none faster reaches 0.9
        double[] s = BeemThresholds.scores(cache, t);
        for (double alpha : s) {
            SimulationResult other = Simulator.run(cache, BeemCriterion.global(W, alpha, BeemCriterion.Reset.CURRENT));
            if (other.metric() >= 0.9 - 1e-12) {
                assertTrue(other.layerSpeedup() <= g.layerSpeedup() + 1e-12, "alpha " + alpha + " is faster");
            }
        }
    }

    @Test
    void regressionIsRefused() {
        ExitOutputs reg = ExitOutputs.of(new float[][][] {{{1f}, {2f}}}, new float[] {2f});
        var e = assertThrows(IllegalArgumentException.class, () -> BeemThresholds.fromErrorRates(reg,
                new BeemCriterion(new double[] {1, 1}, new double[] {1}, BeemCriterion.Reset.CURRENT, 0.1), 0));
        assertTrue(e.getMessage().contains("classification"), e.getMessage());
    }
}
