package dev.offramp.consistentee;

import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.ExitLayout;
import dev.offramp.exits.ExitTask;
import dev.offramp.exits.LayerwiseOutputs;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.PolicyNetworks;
import dev.offramp.training.FeatureCache;
import dev.offramp.training.TrainingProgress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class ConsistentEeTest {
    @TempDir
    Path tmp;

    private static float[] randomPi(int l, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] pi = new float[l];
        for (int i = 0; i < l; i++) pi[i] = (float) (0.05 + 0.9 * r.nextDouble());
        return pi;
    }

    @Test
    void exitDistributionSumsToOne() {
        for (long seed = 1; seed <= 20; seed++) {
            float[] pi = randomPi(12, seed);
            double[] p = new double[12];
            ExitDistribution.distribution(pi, 0, 12, p);
            double sum = 0;
            for (double v : p) { assertTrue(v >= 0); sum += v; }
            assertEquals(1.0, sum, 1e-12);
            // the last layer's entry of pi is ignored
            pi[11] = 0.123f;
            double[] q = new double[12];
            ExitDistribution.distribution(pi, 0, 12, q);
            assertArrayEquals(p, q, 0);
        }
        // extreme policies: π_1 = 1 leaves at 1 surely, all zero leaves at L
        float[] one = new float[5];
        one[0] = 1f;
        double[] p = new double[5];
        ExitDistribution.distribution(one, 0, 5, p);
        assertArrayEquals(new double[]{1, 0, 0, 0, 0}, p, 0);
        ExitDistribution.distribution(new float[5], 0, 5, p);
        assertArrayEquals(new double[]{0, 0, 0, 0, 1}, p, 0);
    }

    @Test
    void exactGradientMatchesFiniteDifferences() {
        int l = 12;
        SplittableRandom r = new SplittableRandom(7);
        for (int trial = 0; trial < 5; trial++) {
            float[] pi = randomPi(l, 100 + trial);
            double[] rew = new double[l];
            for (int t = 0; t < l; t++) rew[t] = -r.nextDouble() * 2 - 0.05 * (t + 1);
            double[] grad = new double[l];
            double j = ExitDistribution.gradient(pi, 0, rew, 0, l, grad, 0);
            // J from the distribution directly
            double[] p = new double[l];
            ExitDistribution.distribution(pi, 0, l, p);
            double direct = 0;
            for (int t = 0; t < l; t++) direct += p[t] * rew[t];
            assertEquals(direct, j, 1e-12);
            assertEquals(direct, ExitDistribution.expectedReward(pi, 0, rew, 0, l), 1e-12);
            assertEquals(0.0, grad[l - 1]);
            // central differences in double on a double copy of π: J is linear in each π_j, so they are exact
            for (int i = 0; i < l - 1; i++) {
                double h = 1e-3;
                double plus = jOf(pi, i, h, rew), minus = jOf(pi, i, -h, rew);
                assertEquals((plus - minus) / (2 * h), grad[i], 1e-9, "dJ/dπ_" + (i + 1));
            }
        }
    }

    /** J with π_i shifted by h, in double. */
    private static double jOf(float[] pi, int i, double h, double[] rew) {
        int l = pi.length;
        double survive = 1, j = 0;
        for (int t = 0; t < l - 1; t++) {
            double p = pi[t] + (t == i ? h : 0);
            j += survive * p * rew[t];
            survive *= 1 - p;
        }
        return j + survive * rew[l - 1];
    }

    @Test
    void reinforceMeanGradientApproachesExactGradient() {
        int l = 4;
        float[] pi = {0.3f, 0.45f, 0.6f, 1f};
        double[] rew = {-1.2, -0.4, -0.9, -0.1};
        double[] exact = new double[l];
        ExitDistribution.gradient(pi, 0, rew, 0, l, exact, 0);
        double[] exactLogit = new double[l];
        for (int j = 0; j < l - 1; j++) exactLogit[j] = exact[j] * pi[j] * (1 - pi[j]);

        // REINFORCE with the K-copy mean baseline, as the trainer does it (gradient of +J, not the loss)
        SplittableRandom rng = new SplittableRandom(2024);
        int groups = 200_000, k = 8;
        double[] est = new double[l];
        int[] e = new int[k];
        double[] rs = new double[k];
        for (int g = 0; g < groups; g++) {
            double base = 0;
            for (int c = 0; c < k; c++) { e[c] = ExitDistribution.sampleExit(pi, 0, l, rng); rs[c] = rew[e[c] - 1]; base += rs[c]; }
            base /= k;
            for (int c = 0; c < k; c++) {
                ExitDistribution.logProbabilityGradLogits(pi, 0, l, e[c], (rs[c] - base) / ((double) groups * k), est, 0);
            }
        }
        // the leave-in mean baseline shrinks the expectation by (K−1)/K
        for (int j = 0; j < l - 1; j++) {
            assertEquals(exactLogit[j] * (k - 1) / k, est[j], 0.004, "dJ/dz_" + (j + 1) + " exact " + exactLogit[j]);
        }
        assertEquals(0.0, est[l - 1]);
    }

    @Test
    void logProbabilityIsTheLogOfTheDistribution() {
        float[] pi = randomPi(6, 3);
        double[] p = new double[6];
        ExitDistribution.distribution(pi, 0, 6, p);
        for (int e = 1; e <= 6; e++) assertEquals(Math.log(p[e - 1]), ExitDistribution.logProbability(pi, 0, 6, e), 1e-6);
        // clamped: log of π = 0 stays finite
        float[] zero = new float[6];
        assertTrue(Double.isFinite(ExitDistribution.logProbability(zero, 0, 6, 2)));
    }

    @Test
    void memorizedLayerOnHandMadePredictions() {
        int l = 6;
        boolean T = true, F = false;
        boolean[] c = {
                T, T, T, T, T, T,   // all correct → 1
                T, T, T, T, T, F,   // last wrong → L
                T, T, F, T, T, T,   // correct from 4 on, wrong at 3 → 4
                T, T, F, F, T, T,   // correct from 5 on, wrong at 3 and 4 → 5
                F, F, F, F, F, T,   // only the last → L
                F, F, F, F, F, F,   // never → L
                F, T, T, T, T, T,   // → 2
        };
        assertArrayEquals(new int[]{1, 6, 4, 5, 6, 6, 2}, MemorizedLayer.fromCorrect(c, 7, l));

        // the same from exit outputs: sample 0 right everywhere, sample 1 wrong at exit 2 only
        float[] v = {
                0.9f, 0.1f, 0.8f, 0.2f, 0.7f, 0.3f,
                0.2f, 0.8f, 0.6f, 0.4f, 0.3f, 0.7f,
        };
        LayerwiseOutputs out = new LayerwiseOutputs(2, 3, 2, v);
        assertArrayEquals(new int[]{1, 3}, MemorizedLayer.fromOutputs(out, new int[]{0, 1}));

        MemorizedLayer.Distribution d = MemorizedLayer.distribution(new int[]{1, 6, 4, 5, 6, 6, 2}, l, 2);
        assertArrayEquals(new int[]{1, 1, 0, 1, 1, 3}, d.counts());
        assertEquals(30.0 / 7, d.mean(), 1e-12);
        assertArrayEquals(new int[]{0}, d.easy());
        assertEquals(2, d.hard().length);
        assertTrue(d.table().contains("m=6"));
    }

    @Test
    void policyBackwardMatchesFiniteDifferences() {
        int h = 7, l = 4, w = 5, b = 3;
        PolicyNetworks p = PolicyNetworks.create(h, l, w, 11);
        SplittableRandom r = new SplittableRandom(5);
        float[] x = new float[b * h];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        float[] c = {0.7f, -1.3f, 0.4f};  // loss = Σ_r c_r·z_r + Σ_r π_r² (both paths through z)
        int layer = 2;
        PolicyNetworks.Activations a = new PolicyNetworks.Activations(p, b);
        p.forward(a, layer, x, 0, b);
        float[] dz = new float[b];
        for (int s = 0; s < b; s++) {
            float pi = a.probs()[s];
            dz[s] = c[s] + 2 * pi * pi * (1 - pi);
        }
        p.zeroGrads();
        p.backward(a, x, 0, dz);
        float[] analytic = p.grads().clone();
        float[] params = p.params();
        int checked = 0;
        for (PolicyNetworks.Tensor t : p.tensors()) {
            for (int e = 0; e < t.size(); e += Math.max(1, t.size() / 6)) {
                int i = t.offset() + e;
                float keep = params[i];
                double eps = 1e-2;
                params[i] = (float) (keep + eps);
                double plus = loss(p, a, layer, x, b, c);
                params[i] = (float) (keep - eps);
                double minus = loss(p, a, layer, x, b, c);
                params[i] = keep;
                double num = (plus - minus) / (2 * eps);
                if (t.layer() != layer) {
                    assertEquals(0f, analytic[i], t.name() + " of another layer must get no gradient");
                } else {
                    assertEquals(num, analytic[i], 2e-3 + 2e-2 * Math.abs(num), t.name() + "[" + e + "]");
                    checked++;
                }
            }
        }
        assertTrue(checked > 10);
    }

    private static double loss(PolicyNetworks p, PolicyNetworks.Activations a, int layer, float[] x, int b, float[] c) {
        p.forward(a, layer, x, 0, b);
        double s = 0;
        for (int r = 0; r < b; r++) s += c[r] * a.logits()[r] + a.probs()[r] * a.probs()[r];
        return s;
    }

    @Test
    void runnerSourceAndBatchProbabilitiesAgree() {
        int h = 6, l = 3, n = 5;
        PolicyNetworks p = PolicyNetworks.create(h, l, 4, 3);
        SplittableRandom r = new SplittableRandom(1);
        float[][] byLayer = new float[l][n * h];
        for (float[] f : byLayer) for (int i = 0; i < f.length; i++) f[i] = (float) r.nextGaussian();
        float[] all = p.exitProbabilities(byLayer, n);
        var src = p.source();
        float[] out = new float[n];
        for (int layer = 1; layer <= l; layer++) {
            src.exitProbabilities(layer, byLayer[layer - 1], n, out);
            for (int s = 0; s < n; s++) assertEquals(all[s * l + layer - 1], out[s], 1e-6f);
        }
        for (int s = 0; s < n; s++) assertEquals(1f, all[s * l + l - 1]);
    }

    @Test
    void saveLoadRoundTripWithPolicies() throws IOException {
        int h = 8, l = 4;
        ExitHeads heads = ExitHeads.create(h, l, 2, ExitLayout.DEFAULT, null, 1);
        MultiExitModel m = new MultiExitModel("bge-small-en-v1.5", ExitTask.classification("sst2", List.of("n", "p")),
                heads, null, null, null);
        Path plain = tmp.resolve("plain");
        m.save(plain);
        MultiExitModel back0 = MultiExitModel.load(plain);
        assertNull(back0.policies());
        assertNull(back0.memorizedLayers());

        PolicyNetworks p = PolicyNetworks.create(h, l, 32, 9);
        int[] mem = {1, 4, 2, 3, 4};
        m.setPolicies(p, mem);
        Path dir = tmp.resolve("cee");
        m.save(dir);
        assertTrue(Files.readString(dir.resolve("config.json")).contains("\"policies\""));
        MultiExitModel back = MultiExitModel.load(dir);
        assertNotNull(back.policies());
        assertEquals(32, back.policies().width);
        assertArrayEquals(p.params(), back.policies().params());
        assertArrayEquals(mem, back.memorizedLayers());
        assertArrayEquals(heads.params(), back.heads().params());
        assertThrows(IllegalArgumentException.class, () -> m.setPolicies(PolicyNetworks.create(h, l + 1, 32, 1), null));
    }

    @Test
    void stageTwoLearnsToLeaveEarlyWhereEarlyExitsAreRight() {
        // two kinds of samples told apart by feature 0: "easy" ones have low loss everywhere, "hard" ones only at L
        int n = 512, l = 4, h = 4;
        SplittableRandom r = new SplittableRandom(3);
        float[][] byLayer = new float[l][n * h];
        float[] loss = new float[n * l];
        int[] mem = new int[n];
        for (int s = 0; s < n; s++) {
            boolean easy = s % 2 == 0;
            for (int layer = 0; layer < l; layer++) {
                for (int c = 0; c < h; c++) byLayer[layer][s * h + c] = (float) (c == 0 ? (easy ? 1 : -1) : r.nextGaussian() * 0.1);
                loss[s * l + layer] = easy ? 0.05f : (layer == l - 1 ? 0.05f : 2f);
            }
            mem[s] = easy ? 1 : l;
        }
        FeatureCache fc = new FeatureCache(byLayer, n, h);
        for (ConsistentEeTrainer.Estimator est : ConsistentEeTrainer.Estimator.values()) {
            PolicyNetworks p = PolicyNetworks.create(h, l, 8, 1);
            ConsistentEeTrainer.Options o = ConsistentEeTrainer.Options.defaults().withEstimator(est).withAlpha(0.1)
                    .withEpochs(30).withPolicyLr(1e-2f).withBatchSize(32);
            ConsistentEeTrainer.Result res = ConsistentEeTrainer.trainPolicies(p, fc, loss, mem, null, o, TrainingProgress.NONE);
            float[] pi = p.exitProbabilities(byLayer, n);
            double easyExit = 0, hardExit = 0;
            double[] dist = new double[l];
            for (int s = 0; s < n; s++) {
                ExitDistribution.distribution(pi, s * l, l, dist);
                double e = 0;
                for (int t = 1; t <= l; t++) e += t * dist[t - 1];
                if (s % 2 == 0) easyExit += e; else hardExit += e;
            }
            easyExit /= n / 2.0;
            hardExit /= n / 2.0;
            assertTrue(easyExit < 1.3, est + ": easy samples leave at " + easyExit);
            assertTrue(hardExit > 3.6, est + ": hard samples leave at " + hardExit);
            assertEquals(30, res.epochs().size());
        }
    }

    @Test
    void consistentEeGridFollowsTheQuantilesOfPi() {
        // 40 samples, 3 layers, every π in (0.999, 1): an even τ grid sees one speed-up, the quantiles see many
        int n = 40, l = 3;
        float[][][] outs = new float[n][l][];
        float[] gold = new float[n], pi = new float[n * l];
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < l; i++) outs[s][i] = new float[]{i == 0 && s % 3 == 0 ? 0.2f : 0.8f, i == 0 && s % 3 == 0 ? 0.8f : 0.2f};
            pi[s * l] = 0.999f + 0.00002f * s;
            pi[s * l + 1] = 0.9995f;
            pi[s * l + 2] = 1f;
        }
        var cache = dev.offramp.eval.calibration.ExitOutputs.of(outs, gold).withPolicy(pi);
        var sweep = new dev.offramp.eval.calibration.Sweep(cache, dev.offramp.eval.calibration.Metric.ACCURACY);
        var curve = sweep.consistentEe(sweep.defaultConsistentEeGrid());
        long speeds = curve.points().stream().mapToDouble(p -> p.layerSpeedup()).distinct().count();
        assertTrue(speeds >= 10, "distinct speed-ups on the τ sweep: " + speeds);
        // selection score: between the worst and the best metric of the curve
        double score = ConsistentEeTrainer.selectionScore(curve, 3.0);
        double lo = curve.points().stream().mapToDouble(p -> p.metric()).min().orElseThrow();
        double hi = curve.points().stream().mapToDouble(p -> p.metric()).max().orElseThrow();
        assertTrue(score >= lo && score <= hi, score + " outside [" + lo + ", " + hi + "]");
    }
}
