package dev.offramp.generation;

import dev.offramp.decoder.DecoderState;
import dev.offramp.decoder.LlamaDecoder;

import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Trains ConsistentEE's per-token exit policies on a frozen decoder: windows of training text run through every
 * layer once, keeping for each position and layer the normed hidden state (the policy's input) and log p_l(y);
 * then Adam maximises the mean of J (exact estimator) or its REINFORCE estimate over those cached positions.
 *
 * <p>The target y of a position is the token full depth predicts there ({@link Target#FULL}, default: the point of
 * early exit in generation is to agree with full depth), or the text's next token ({@link Target#GOLD}). The
 * memorized layer m is the smallest l such that every exit from l to L predicts y (L when the last one does not).
 */
public final class PolicyTrainer {
    private PolicyTrainer() {}

    public enum Target { FULL, GOLD }

    /**
     * @param alpha     the cost per layer of an easy token (the trade-off knob)
     * @param hardness  the hardness-guided reward (false: the plain −CE − α·t ablation)
     * @param exact     the exact estimator (false: REINFORCE with k copies)
     */
    public record Options(double alpha, boolean hardness, boolean exact, int k, Target target, int epochs, int batch,
                          double lr, long seed) {}

    /** Cached per-position training signal. */
    public static final class Features {
        final int layers, hidden;
        int count;
        final float[] normed;       // (N, L−1, C)
        final double[] logProb;     // (N, L)
        final int[] memorized;      // (N)

        Features(int capacity, int layers, int hidden) {
            this.layers = layers;
            this.hidden = hidden;
            normed = new float[capacity * (layers - 1) * hidden];
            logProb = new double[capacity * layers];
            memorized = new int[capacity];
        }

        public int count() {
            return count;
        }

        /** Mean memorized layer: how hard the text is for this model. */
        public double meanMemorizedLayer() {
            double s = 0;
            for (int i = 0; i < count; i++) s += memorized[i];
            return s / count;
        }
    }

    /**
     * Runs up to {@code positions} positions of tokens (windows of {@code window} tokens, from the start) through the
     * model at full depth and caches what the policies train on.
     */
    public static Features collect(LlamaDecoder model, int[] tokens, int window, int positions, Target target) {
        int layers = model.config().layers(), c = model.config().hidden(), v = model.config().vocabSize();
        window = Math.min(window, model.config().maxPositions());
        int perWindow = window - 1;                        // the last token of a window has no gold next token
        int windows = Math.min((tokens.length - 1) / window, (positions + perWindow - 1) / perWindow);
        if (windows < 1) throw new IllegalArgumentException("need at least " + (window + 1) + " training tokens, got " + tokens.length);
        Features f = new Features(windows * perWindow, layers, c);
        DecoderState s = model.newState(window, window);
        float[] logits = new float[layers * window * v];
        int[] greedy = new int[layers * window];
        for (int w = 0; w < windows; w++) {
            s.reset();
            model.begin(s, tokens, w * window, window);
            for (int l = 0; l < layers; l++) {
                model.layer(s, l);
                model.logits(s, 0, window, logits, l * window * v);
                for (int r = 0; r < perWindow; r++) {
                    int n = f.count + r;
                    if (l < layers - 1) model.finalNorm(s, r, f.normed, (n * (layers - 1) + l) * c);
                }
            }
            model.finish(s);
            for (int r = 0; r < perWindow; r++) {
                for (int l = 0; l < layers; l++) greedy[l * window + r] = TokenMath.argmax(logits, (l * window + r) * v, v);
                int y = target == Target.FULL ? greedy[(layers - 1) * window + r] : tokens[w * window + r + 1];
                int n = f.count + r, m = layers;
                for (int l = layers; l >= 1 && greedy[(l - 1) * window + r] == y; l--) m = l;
                if (greedy[(layers - 1) * window + r] != y) m = layers;
                f.memorized[n] = m;
                for (int l = 0; l < layers; l++) f.logProb[n * layers + l] = logProb(logits, (l * window + r) * v, v, y);
            }
            f.count += perWindow;
        }
        return f;
    }

    private static double logProb(float[] x, int off, int n, int target) {
        float max = x[off + TokenMath.argmax(x, off, n)];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(x[off + i] - max);
        return x[off + target] - max - Math.log(sum);
    }

    /** Trains fresh policies on the features; logs one line per epoch (mean J, mean expected exit layer). */
    public static ExitPolicies train(Features f, Options o, Consumer<String> log) {
        int layers = f.layers, c = f.hidden, n = layers - 1;
        ExitPolicies p = new ExitPolicies(layers, c, String.format(Locale.ROOT,
                "alpha=%s reward=%s estimator=%s k=%d target=%s epochs=%d lr=%s", o.alpha(), o.hardness() ? "hardness" : "plain",
                o.exact() ? "exact" : "reinforce", o.k(), o.target().name().toLowerCase(Locale.ROOT), o.epochs(), o.lr()));
        int params = p.w.length + p.b.length;
        double[] grad = new double[params], m1 = new double[params], m2 = new double[params];
        double[] pi = new double[n], dz = new double[n], logProb = new double[layers];
        SplittableRandom rng = new SplittableRandom(o.seed());
        int[] order = new int[f.count];
        for (int i = 0; i < order.length; i++) order[i] = i;
        long t = 0;
        for (int epoch = 1; epoch <= o.epochs(); epoch++) {
            for (int i = order.length - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1), tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
            double sumJ = 0, sumDepth = 0;
            for (int start = 0; start < order.length; start += o.batch()) {
                int end = Math.min(order.length, start + o.batch());
                java.util.Arrays.fill(grad, 0);
                for (int k = start; k < end; k++) {
                    int pos = order[k];
                    for (int l = 0; l < n; l++) pi[l] = p.exitProbability(l + 1, f.normed, (pos * n + l) * c);
                    System.arraycopy(f.logProb, pos * layers, logProb, 0, layers);
                    double[] r = PolicyGradients.rewards(logProb, f.memorized[pos], o.alpha(), o.hardness());
                    if (o.exact()) sumJ += PolicyGradients.exactGradient(pi, r, dz);
                    else {
                        sumJ += PolicyGradients.objective(pi, r);
                        PolicyGradients.reinforceGradient(pi, r, o.k(), rng, dz);
                    }
                    sumDepth += expectedExit(pi);
                    for (int l = 0; l < n; l++) {
                        double g = dz[l];
                        if (g == 0) continue;
                        int fo = (pos * n + l) * c, wo = l * c;
                        for (int i = 0; i < c; i++) grad[wo + i] += g * f.normed[fo + i];
                        grad[p.w.length + l] += g;
                    }
                }
                // Adam ascent on the batch mean of J
                t++;
                double b1 = 0.9, b2 = 0.999, scale = 1.0 / (end - start);
                double lrT = o.lr() * Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t));
                for (int i = 0; i < params; i++) {
                    double g = grad[i] * scale;
                    m1[i] = b1 * m1[i] + (1 - b1) * g;
                    m2[i] = b2 * m2[i] + (1 - b2) * g * g;
                    double step = lrT * m1[i] / (Math.sqrt(m2[i]) + 1e-8);
                    if (i < p.w.length) p.w[i] += (float) step;
                    else p.b[i - p.w.length] += (float) step;
                }
            }
            log.accept(String.format(Locale.ROOT, "policy epoch %d: mean J %.4f, expected exit layer %.2f of %d",
                    epoch, sumJ / f.count, sumDepth / f.count, layers));
        }
        return p;
    }

    /** Σ_t t · P(t). */
    static double expectedExit(double[] pi) {
        double survive = 1, e = 0;
        for (int j = 0; j < pi.length; j++) {
            e += (j + 1) * pi[j] * survive;
            survive *= 1 - pi[j];
        }
        return e + (pi.length + 1) * survive;
    }
}
