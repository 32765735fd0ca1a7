package dev.offramp.generation;

import java.util.SplittableRandom;

/**
 * ConsistentEE's policy objective for one token, over the L possible exits (methods.md §4). With π_j the exit
 * probability at layer j &lt; L and S_t = Π_{j&lt;t} (1 − π_j):
 * <pre>
 *   P(t) = π_t · S_t  (t &lt; L),   P(L) = S_L,   J = Σ_t P(t) · R_t
 * </pre>
 * Exact: with the value-to-go G_L = R_L, G_j = π_j R_j + (1 − π_j) G_{j+1} (so J = G_1),
 * ∂J/∂π_j = S_j (R_j − G_{j+1}) and ∂J/∂z_j = ∂J/∂π_j · π_j (1 − π_j) for π_j = sigmoid(z_j).
 * REINFORCE: K copies, the first never exits (exit L, the reference trajectory) and the others sample
 * a_j ~ Bernoulli(π_j) layer by layer; baseline = mean reward of the K copies; the sampled copies contribute
 * (R − b) ∇ log π(τ), log π(τ) = Σ_{j&lt;e} log(1 − π_j) + log π_e. The first copy only sets the baseline: it was not
 * sampled, so its score would bias the estimate. The mean is rescaled by k/(k − 1), since a copy's own reward in
 * the baseline shrinks its expected contribution by (k − 1)/k; so the estimate averages to the exact gradient.
 */
public final class PolicyGradients {
    private PolicyGradients() {}

    /** R_t = log p_t(y) − α · t · (1 − m/L), t = 1..L; logProb[t−1] = log p_t(y), m the memorized layer. */
    public static double[] rewards(double[] logProb, int memorized, double alpha, boolean hardness) {
        int layers = logProb.length;
        double[] r = new double[layers];
        double cost = hardness ? alpha * (1 - (double) memorized / layers) : alpha;
        for (int t = 1; t <= layers; t++) r[t - 1] = logProb[t - 1] - cost * t;
        return r;
    }

    /** J = Σ_t P(t) R_t for exit probabilities pi (L−1) and rewards (L). */
    public static double objective(double[] pi, double[] reward) {
        double g = reward[reward.length - 1];
        for (int j = pi.length - 1; j >= 0; j--) g = pi[j] * reward[j] + (1 - pi[j]) * g;
        return g;
    }

    /** The exact gradient ∂J/∂z_j into dz (L−1); returns J. */
    public static double exactGradient(double[] pi, double[] reward, double[] dz) {
        int n = pi.length;
        double[] toGo = new double[n + 1];
        toGo[n] = reward[n];
        for (int j = n - 1; j >= 0; j--) toGo[j] = pi[j] * reward[j] + (1 - pi[j]) * toGo[j + 1];
        double survive = 1;
        for (int j = 0; j < n; j++) {
            dz[j] = survive * (reward[j] - toGo[j + 1]) * pi[j] * (1 - pi[j]);
            survive *= 1 - pi[j];
        }
        return toGo[0];
    }

    /** The REINFORCE estimate of ∂J/∂z_j with k copies into dz (L−1), averaged over the k − 1 sampled copies, unbiased. */
    public static void reinforceGradient(double[] pi, double[] reward, int k, SplittableRandom rng, double[] dz) {
        if (k < 2) throw new IllegalArgumentException("REINFORCE needs k >= 2 copies (the first never exits), got " + k);
        int n = pi.length;
        int[] exit = new int[k];
        exit[0] = n + 1;                                            // 1-based layer L
        double baseline = reward[n];
        for (int c = 1; c < k; c++) {
            int e = n + 1;
            for (int j = 0; j < n; j++) {
                if (rng.nextDouble() < pi[j]) {
                    e = j + 1;
                    break;
                }
            }
            exit[c] = e;
            baseline += reward[e - 1];
        }
        baseline /= k;
        java.util.Arrays.fill(dz, 0);
        for (int c = 1; c < k; c++) {
            double adv = reward[exit[c] - 1] - baseline;
            for (int j = 0; j < n && j + 1 <= exit[c]; j++) {
                // d log(1 − π_j)/dz_j = −π_j before the exit; d log π_e/dz_e = 1 − π_e at it
                dz[j] += adv * (j + 1 == exit[c] ? 1 - pi[j] : -pi[j]);
            }
        }
        // each copy's own reward is 1/k of the baseline, which shrinks the expectation by (k − 1)/k: undo that
        for (int j = 0; j < n; j++) dz[j] *= (double) k / ((k - 1) * (double) (k - 1));
    }
}
