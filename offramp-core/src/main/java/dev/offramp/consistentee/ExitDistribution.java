package dev.offramp.consistentee;

import java.util.SplittableRandom;

/**
 * Where a sample leaves under the policies π_1..π_{L−1} (methods.md §4):
 * <pre>
 *   P(t) = π_t · Π_{j&lt;t} (1 − π_j)    t &lt; L
 *   P(L) =       Π_{j&lt;L} (1 − π_j)
 * </pre>
 * and the two estimators of the gradient of the expected reward J = Σ_t P(t)·R(t):
 * <ul>
 *   <li>exact: dJ/dπ_j = S_j · (R_j − G_{j+1}), with S_j = Π_{i&lt;j}(1 − π_i) the probability of reaching layer j
 *       and G_j = π_j·R_j + (1 − π_j)·G_{j+1}, G_L = R_L the expected reward of a sample that has reached j.
 *       Computed backwards without any division, so π at 0 or 1 is harmless.</li>
 *   <li>REINFORCE: sample the exit e layer by layer (a_j ~ Bernoulli(π_j), the first j with a_j = 1, L if none),
 *       score log π(τ) = Σ_{j&lt;e} log(1 − π_j) + log π_e (no log π_L term: the last layer exits surely).</li>
 * </ul>
 * Arrays are one sample's π over layers, pi[off + i − 1] for layer i; entry L−1 (layer L) is ignored: the last
 * layer always exits. Logs clamp π into [{@link #EPS}, 1 − {@link #EPS}].
 */
public final class ExitDistribution {
    /** Clamp of π for logarithms. */
    public static final double EPS = 1e-6;

    private ExitDistribution() {}

    static double clamp(double p) {
        return Math.min(1 - EPS, Math.max(EPS, p));
    }

    /** out[t − 1] = P(t) for t = 1..L. */
    public static void distribution(float[] pi, int off, int l, double[] out) {
        double survive = 1;
        for (int t = 1; t < l; t++) {
            double p = pi[off + t - 1];
            out[t - 1] = survive * p;
            survive *= 1 - p;
        }
        out[l - 1] = survive;
    }

    /** J = Σ_t P(t)·R(t), rewards[rOff + t − 1] = R(t). */
    public static double expectedReward(float[] pi, int off, double[] rewards, int rOff, int l) {
        double g = rewards[rOff + l - 1];
        for (int t = l - 1; t >= 1; t--) {
            double p = pi[off + t - 1];
            g = p * rewards[rOff + t - 1] + (1 - p) * g;
        }
        return g;
    }

    /**
     * dJ/dπ_j for j = 1..L−1 into dPi[dOff + j − 1] (written, not added); dPi[dOff + L − 1] = 0.
     * Returns J.
     */
    public static double gradient(float[] pi, int off, double[] rewards, int rOff, int l, double[] dPi, int dOff) {
        // backward pass: G_{j+1} before it is folded into G_j
        double g = rewards[rOff + l - 1];
        dPi[dOff + l - 1] = 0;
        for (int j = l - 1; j >= 1; j--) {
            double p = pi[off + j - 1];
            dPi[dOff + j - 1] = rewards[rOff + j - 1] - g; // R_j − G_{j+1}, times S_j below
            g = p * rewards[rOff + j - 1] + (1 - p) * g;
        }
        double survive = 1;
        for (int j = 1; j < l; j++) {
            dPi[dOff + j - 1] *= survive;
            survive *= 1.0 - pi[off + j - 1];
        }
        return g;
    }

    /** The sampled exit layer e in 1..L: the first j with a_j ~ Bernoulli(π_j) = 1, else L. */
    public static int sampleExit(float[] pi, int off, int l, SplittableRandom rng) {
        for (int j = 1; j < l; j++) if (rng.nextDouble() < pi[off + j - 1]) return j;
        return l;
    }

    /** log π(τ) of leaving at e: Σ_{j&lt;e} log(1 − π_j) + log π_e (the last term only for e &lt; L). */
    public static double logProbability(float[] pi, int off, int l, int e) {
        double s = 0;
        for (int j = 1; j < e; j++) s += Math.log(1 - clamp(pi[off + j - 1]));
        if (e < l) s += Math.log(clamp(pi[off + e - 1]));
        return s;
    }

    /**
     * ADDS scale · d log π(τ)/dz_j for the logits z_j (π_j = σ(z_j)) into dz[dOff + j − 1]: −π_j for j &lt; e,
     * 1 − π_e at e &lt; L, nothing after e (those policies were never asked).
     */
    public static void logProbabilityGradLogits(float[] pi, int off, int l, int e, double scale, double[] dz, int dOff) {
        for (int j = 1; j < e; j++) dz[dOff + j - 1] -= scale * pi[off + j - 1];
        if (e < l) dz[dOff + e - 1] += scale * (1.0 - pi[off + e - 1]);
    }
}
