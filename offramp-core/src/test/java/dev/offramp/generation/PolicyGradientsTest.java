package dev.offramp.generation;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PolicyGradientsTest {
    static final double[] Z = {-0.7, 0.3, 1.1, -1.9, 0.05};          // logits of π_1..π_5, L = 6
    static final double[] R = {-3.1, -2.2, -1.0, -0.8, -0.75, -0.7};   // rewards of exits 1..6

    static double[] pi(double[] z) {
        double[] p = new double[z.length];
        for (int i = 0; i < z.length; i++) p[i] = ExitPolicies.sigmoid(z[i]);
        return p;
    }

    @Test
    void objectiveIsTheExitDistributionTimesTheRewards() {
        double[] p = pi(Z);
        double survive = 1, j = 0;
        for (int t = 0; t < p.length; t++) {
            j += p[t] * survive * R[t];
            survive *= 1 - p[t];
        }
        j += survive * R[R.length - 1];
        assertEquals(j, PolicyGradients.objective(p, R), 1e-12);
    }

    @Test
    void exactGradientMatchesFiniteDifferences() {
        double[] dz = new double[Z.length];
        double j = PolicyGradients.exactGradient(pi(Z), R, dz);
        assertEquals(PolicyGradients.objective(pi(Z), R), j, 1e-12);
        double h = 1e-6;
        for (int i = 0; i < Z.length; i++) {
            double[] up = Z.clone(), down = Z.clone();
            up[i] += h;
            down[i] -= h;
            double numeric = (PolicyGradients.objective(pi(up), R) - PolicyGradients.objective(pi(down), R)) / (2 * h);
            assertEquals(numeric, dz[i], 1e-7, "dJ/dz_" + (i + 1));
            assertTrue(Math.abs(dz[i]) > 1e-4, "a gradient that is zero would pass any comparison");
        }
    }

    @Test
    void reinforceAveragesToTheExactGradient() {
        double[] p = pi(Z), exact = new double[Z.length], sample = new double[Z.length], mean = new double[Z.length];
        PolicyGradients.exactGradient(p, R, exact);
        SplittableRandom rng = new SplittableRandom(3);
        int draws = 200_000;
        for (int d = 0; d < draws; d++) {
            PolicyGradients.reinforceGradient(p, R, 8, rng, sample);
            for (int i = 0; i < Z.length; i++) mean[i] += sample[i] / draws;
        }
        for (int i = 0; i < Z.length; i++) {
            assertEquals(exact[i], mean[i], 0.03 * Math.abs(exact[i]) + 1e-3, "dJ/dz_" + (i + 1));
        }
    }

    @Test
    void hardnessRewardChargesEasyTokensMore() {
        double[] logProb = {-2, -1, -0.5, -0.4};
        double[] easy = PolicyGradients.rewards(logProb, 1, 0.1, true);
        double[] hard = PolicyGradients.rewards(logProb, 4, 0.1, true);
        double[] plain = PolicyGradients.rewards(logProb, 4, 0.1, false);
        assertEquals(-0.5 - 0.1 * 3 * (1 - 1 / 4.0), easy[2], 1e-12);
        assertEquals(-0.5, hard[2], 1e-12);                  // m = L: no cost at all
        assertEquals(-0.5 - 0.3, plain[2], 1e-12);
    }
}
