package dev.offramp.consistentee;

import dev.offramp.eval.calibration.ExitOutputs;
import dev.offramp.eval.calibration.Metric;
import dev.offramp.eval.calibration.Sweep;
import dev.offramp.eval.calibration.TradeoffCurve;
import dev.offramp.eval.calibration.TradeoffPoint;
import dev.offramp.exits.LayerwiseOutputs;
import dev.offramp.exits.PolicyNetworks;
import dev.offramp.model.ParameterSet;
import dev.offramp.training.AdamW;
import dev.offramp.training.FeatureCache;
import dev.offramp.training.LearningRateSchedule;
import dev.offramp.training.TrainingProgress;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * ConsistentEE's stage 2 (methods.md §4): the exit policies alone are trained, backbone and exits frozen, to
 * maximise the expected reward
 * <pre>
 *   R(x, t) = −CE_t(x, y) − α · t · (1 − m(x)/L)     --reward hardness (default)
 *   R(x, t) = −CE_t(x, y) − α · t                    --reward plain (the ablation)
 * </pre>
 * (regression: the squared error in place of CE). With everything but the policies frozen, CE_t of every training
 * sample and the pooled vectors h_t are fixed: both are computed once (the {@link FeatureCache} and
 * {@link #exitLosses}), so an epoch is only the policies' forward and backward, seconds on the CPU.
 *
 * <p>Estimators ({@link Estimator}): REINFORCE as the reference code, each instance replicated K times, exits
 * sampled layer by layer (the reference takes π &gt; 0.5 instead of sampling, a known gap we do not copy), baseline
 * the mean reward of the K copies; and the exact expectation J = Σ_t P(t)·R(x, t). The K copies of an instance
 * share one policy forward (same input, no dropout): only the sampling is replicated, which gives the same
 * gradient as replicating the rows of the batch.
 *
 * <p>Model selection: after each epoch π is computed on the validation split, the τ sweep of
 * {@link Sweep#consistentEe} is run on its cached exit outputs, and the epoch with the highest
 * {@link #selectionScore} is kept: the mean, over layer speed-ups s evenly spaced in [1, S_max] (S_max = 3 by
 * default), of the best validation metric among the τ whose speed-up is at least s; i.e. the normalised area
 * under the policy's metric-vs-speed-up frontier. It rewards a policy whose whole curve is good, not one τ.
 * Epochs are seconds long, so there is no checkpoint: an interrupted run restarts.
 */
public final class ConsistentEeTrainer {
    private ConsistentEeTrainer() {}

    public enum Reward {
        HARDNESS("hardness"), PLAIN("plain");
        public final String optionName;
        Reward(String n) { optionName = n; }

        public static Reward fromName(String name) {
            for (Reward r : values()) if (r.optionName.equalsIgnoreCase(name)) return r;
            throw new IllegalArgumentException("unknown reward '" + name + "' (available: hardness, plain)");
        }
    }

    public enum Estimator {
        REINFORCE("reinforce"), EXACT("exact");
        public final String optionName;
        Estimator(String n) { optionName = n; }

        public static Estimator fromName(String name) {
            for (Estimator e : values()) if (e.optionName.equalsIgnoreCase(name)) return e;
            throw new IllegalArgumentException("unknown estimator '" + name + "' (available: reinforce, exact)");
        }
    }

    /**
     * @param alpha      cost per layer α (the reference tries 0.01 … 0.09)
     * @param samples    K, copies per instance for REINFORCE
     * @param policyLr   peak learning rate of the policies (reference: 3e-4)
     * @param warmup     fraction of steps with linear warm-up; then linear decay to 0
     * @param maxSpeedup S_max of the selection score
     */
    public record Options(double alpha, Reward reward, Estimator estimator, int samples, int epochs, float policyLr,
                          int batchSize, long seed, float warmup, double maxSpeedup) {
        public Options {
            if (!(alpha >= 0)) throw new IllegalArgumentException("alpha must be >= 0, got " + alpha);
            if (samples < 2 && estimator == Estimator.REINFORCE) {
                throw new IllegalArgumentException("REINFORCE needs at least 2 samples per instance for its baseline, got " + samples);
            }
            if (epochs <= 0 || batchSize <= 0) throw new IllegalArgumentException("epochs and batch size must be positive");
            if (!(policyLr > 0)) throw new IllegalArgumentException("policy learning rate must be positive, got " + policyLr);
            if (!(maxSpeedup > 1)) throw new IllegalArgumentException("selection S_max must be > 1, got " + maxSpeedup);
        }

        public static Options defaults() {
            return new Options(0.05, Reward.HARDNESS, Estimator.REINFORCE, 8, 2, 3e-4f, 32, 42, 0.06f, 3.0);
        }

        public Options withAlpha(double a) { return new Options(a, reward, estimator, samples, epochs, policyLr, batchSize, seed, warmup, maxSpeedup); }
        public Options withReward(Reward r) { return new Options(alpha, r, estimator, samples, epochs, policyLr, batchSize, seed, warmup, maxSpeedup); }
        public Options withEstimator(Estimator e) { return new Options(alpha, reward, e, samples, epochs, policyLr, batchSize, seed, warmup, maxSpeedup); }
        public Options withEpochs(int e) { return new Options(alpha, reward, estimator, samples, e, policyLr, batchSize, seed, warmup, maxSpeedup); }
        public Options withPolicyLr(float lr) { return new Options(alpha, reward, estimator, samples, epochs, lr, batchSize, seed, warmup, maxSpeedup); }
        public Options withSeed(long s) { return new Options(alpha, reward, estimator, samples, epochs, policyLr, batchSize, s, warmup, maxSpeedup); }
        public Options withBatchSize(int b) { return new Options(alpha, reward, estimator, samples, epochs, policyLr, b, seed, warmup, maxSpeedup); }
    }

    /** R(x, t) for a sample of memorized layer m that leaves at t (1..L) with loss CE_t. */
    public static double reward(double loss, int t, int m, int layers, double alpha, Reward kind) {
        double cost = kind == Reward.HARDNESS ? alpha * t * (1 - (double) m / layers) : alpha * t;
        return -loss - cost;
    }

    /**
     * Every exit's loss on every sample, (N, L) row-major: −log p_t[y] (classification, p clamped at 1e-30 as
     * {@link dev.offramp.exits.ExitLoss}) or (score − target)² (regression; labels null).
     */
    public static float[] exitLosses(LayerwiseOutputs out, int[] labels, float[] targets) {
        int n = out.samples(), l = out.layers();
        float[] loss = new float[n * l];
        boolean regression = labels == null;
        for (int s = 0; s < n; s++) {
            for (int i = 1; i <= l; i++) {
                double v;
                if (regression) { double d = out.get(s, i, 0) - targets[s]; v = d * d; }
                else v = -Math.log(Math.max(out.get(s, i, labels[s]), 1e-30f));
                loss[s * l + i - 1] = (float) v;
            }
        }
        return loss;
    }

    /**
     * The validation split for model selection: its pooled features byLayer[i − 1] (N, H), its cached exit
     * outputs (π is attached per epoch) and the task metric.
     */
    public record Validation(float[][] byLayer, int samples, ExitOutputs outputs, Metric metric) {}

    /**
     * One epoch: the mean training objective (expected reward for exact, mean sampled reward for REINFORCE), the
     * expected exit layer on the training set, and on validation the selection score and the τ = 0.5 point.
     */
    public record EpochReport(int epoch, double meanReward, double expectedExitLayer, double score,
                              double metricAtHalf, double speedupAtHalf, double seconds) {}

    public record Result(PolicyNetworks policies, List<EpochReport> epochs, int bestEpoch, double seconds) {
        public EpochReport best() { return epochs.get(bestEpoch - 1); }
    }

    /**
     * Trains the policies in place on cached features; with validation the policies end with the best epoch's
     * parameters.
     *
     * @param exitLoss  (N, L) CE_t (or squared error) of every training sample at every exit ({@link #exitLosses})
     * @param memorized (N) m(x) of every training sample
     */
    public static Result trainPolicies(PolicyNetworks pol, FeatureCache train, float[] exitLoss, int[] memorized,
                                       Validation validation, Options o, TrainingProgress progress) {
        long t0 = System.nanoTime();
        int n = train.samples, l = pol.layers, h = pol.hidden, bMax = o.batchSize();
        if (train.layers != l || train.hidden != h) {
            throw new IllegalArgumentException("features have " + train.layers + " layers of width " + train.hidden
                    + ", the policies " + l + " of width " + h);
        }
        if (exitLoss.length != n * l || memorized.length != n) {
            throw new IllegalArgumentException("need N·L = " + n * l + " exit losses and N = " + n + " memorized layers, got "
                    + exitLoss.length + " and " + memorized.length);
        }
        PolicyNetworks.Activations[] acts = new PolicyNetworks.Activations[l - 1];
        float[][] xs = new float[l - 1][bMax * h];   // (B, H) per layer
        for (int i = 0; i < l - 1; i++) acts[i] = new PolicyNetworks.Activations(pol, bMax);
        float[] pi = new float[bMax * l];            // (B, L)
        double[] rew = new double[bMax * l];         // (B, L)
        double[] dz = new double[bMax * l];          // (B, L) dLoss/dz
        double[] dist = new double[l];
        float[] dLogit = new float[bMax];
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        SplittableRandom shuffle = new SplittableRandom(o.seed()), actions = new SplittableRandom(o.seed() ^ 0x3C6EF372FE94F82BL);
        AdamW adam = new AdamW(new ParameterSet().add("policies", pol.params(), pol.grads(), false),
                new AdamW.Options(0.9, 0.999, 1e-8, 0));
        int stepsPerEpoch = (n + bMax - 1) / bMax, total = stepsPerEpoch * o.epochs();
        LearningRateSchedule lr = new LearningRateSchedule(o.policyLr(), Math.round(o.warmup() * total), total);
        StepScratch scratch = new StepScratch(o.samples(), l);

        List<EpochReport> reports = new ArrayList<>();
        float[] best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        int bestEpoch = o.epochs(), step = 0;
        for (int epoch = 1; epoch <= o.epochs(); epoch++) {
            long e0 = System.nanoTime();
            progress.stage("policies epoch " + epoch + "/" + o.epochs(), stepsPerEpoch, "batches");
            for (int i = n - 1; i > 0; i--) { int j = shuffle.nextInt(i + 1), t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
            double rewardSum = 0, exitLayerSum = 0;
            for (int start = 0; start < n; start += bMax, step++) {
                int b = Math.min(bMax, n - start);
                pol.zeroGrads();
                for (int layer = 1; layer < l; layer++) {
                    train.gather(layer, perm, start, start + b, xs[layer - 1]);
                    pol.forward(acts[layer - 1], layer, xs[layer - 1], 0, b);
                    float[] p = acts[layer - 1].probs();
                    for (int s = 0; s < b; s++) pi[s * l + layer - 1] = p[s];
                }
                for (int s = 0; s < b; s++) {
                    int x = perm[start + s], off = s * l;
                    for (int t = 1; t <= l; t++) {
                        rew[off + t - 1] = reward(exitLoss[x * l + t - 1], t, memorized[x], l, o.alpha(), o.reward());
                    }
                }
                rewardSum += policyStep(pi, rew, b, l, o, actions, dz, null, scratch);
                for (int s = 0; s < b; s++) {
                    ExitDistribution.distribution(pi, s * l, l, dist);
                    for (int t = 1; t <= l; t++) exitLayerSum += t * dist[t - 1];
                }
                for (int layer = 1; layer < l; layer++) {
                    for (int s = 0; s < b; s++) dLogit[s] = (float) dz[s * l + layer - 1];
                    pol.backward(acts[layer - 1], xs[layer - 1], 0, dLogit);
                }
                adam.step(lr.at(step));
                int done = start / bMax + 1;
                progress.advance(done);
                if (done % 200 == 0) {
                    progress.status(String.format(Locale.ROOT, "reward %.4f, E[exit] %.2f", rewardSum / Math.min(n, start + b),
                            exitLayerSum / Math.min(n, start + b)));
                }
            }
            progress.endStage();
            double score = Double.NaN, mHalf = Double.NaN, sHalf = Double.NaN;
            if (validation != null) {
                TradeoffCurve curve = validationCurve(pol, validation);
                score = selectionScore(curve, o.maxSpeedup());
                for (TradeoffPoint p : curve.points()) {
                    if (Math.abs(p.knobValue() - 0.5) < 1e-9) { mHalf = p.metric(); sHalf = p.layerSpeedup(); }
                }
                if (best == null || score > bestScore) {
                    bestScore = score;
                    bestEpoch = epoch;
                    best = pol.params().clone();
                }
            }
            EpochReport r = new EpochReport(epoch, rewardSum / n, exitLayerSum / n, score, mHalf, sHalf, (System.nanoTime() - e0) / 1e9);
            reports.add(r);
            progress.log(String.format(Locale.ROOT, "epoch %d: mean reward %.4f, expected exit layer %.2f (train), %.1f s;"
                    + " validation score %.4f, tau=0.5: metric %.4f at %.2fx", epoch, r.meanReward(), r.expectedExitLayer(),
                    r.seconds(), score, mHalf, sHalf));
        }
        if (best != null) System.arraycopy(best, 0, pol.params(), 0, best.length);
        return new Result(pol, reports, bestEpoch, (System.nanoTime() - t0) / 1e9);
    }

    /** Per-thread buffers of {@link #policyStep}. */
    static final class StepScratch {
        final int[] exits;       // (K) sampled exit layers
        final double[] sampled;  // (K) their rewards
        final double[] dist;     // (L) P(t)

        StepScratch(int samples, int layers) {
            exits = new int[samples];
            sampled = new double[samples];
            dist = new double[layers];
        }
    }

    /**
     * The policy loss of one batch, shared by stage 2 and stage 3: from π (B, L) (π_L = 1, written here) and the
     * rewards R (B, L), writes dLoss/dz (B, L) for the policy logits (loss = −mean J for exact,
     * −(1/(B·K)) Σ (R − b)·log π(τ) for REINFORCE) and, when exitWeights (B, L) is given, how much each exit's
     * classifier loss counts for each sample in the consistent objective: sg[P(t)] (exact) or the fraction of the
     * K sampled trajectories that left at t (REINFORCE). Returns Σ over the batch of J (exact) or of the mean
     * sampled reward (REINFORCE).
     */
    static double policyStep(float[] pi, double[] rew, int b, int l, Options o, SplittableRandom rng, double[] dz,
                             double[] exitWeights, StepScratch scratch) {
        java.util.Arrays.fill(dz, 0, b * l, 0);
        if (exitWeights != null) java.util.Arrays.fill(exitWeights, 0, b * l, 0);
        double sum = 0;
        for (int s = 0; s < b; s++) {
            int off = s * l;
            pi[off + l - 1] = 1f;
            if (o.estimator() == Estimator.EXACT) {
                // dLoss/dz_j = −dJ/dπ_j · π_j(1 − π_j) / B
                sum += ExitDistribution.gradient(pi, off, rew, off, l, dz, off);
                for (int j = 1; j < l; j++) {
                    double p = pi[off + j - 1];
                    dz[off + j - 1] *= -p * (1 - p) / b;
                }
                if (exitWeights != null) {
                    ExitDistribution.distribution(pi, off, l, scratch.dist);
                    System.arraycopy(scratch.dist, 0, exitWeights, off, l);
                }
            } else {
                int k = o.samples();
                double baseline = 0;
                for (int c = 0; c < k; c++) {
                    scratch.exits[c] = ExitDistribution.sampleExit(pi, off, l, rng);
                    scratch.sampled[c] = rew[off + scratch.exits[c] - 1];
                    baseline += scratch.sampled[c];
                }
                baseline /= k;
                sum += baseline;
                for (int c = 0; c < k; c++) {
                    ExitDistribution.logProbabilityGradLogits(pi, off, l, scratch.exits[c],
                            -(scratch.sampled[c] - baseline) / ((double) b * k), dz, off);
                    if (exitWeights != null) exitWeights[off + scratch.exits[c] - 1] += 1.0 / k;
                }
            }
        }
        return sum;
    }

    /** The τ sweep of the policies on the validation split's cached exit outputs. */
    public static TradeoffCurve validationCurve(PolicyNetworks pol, Validation v) {
        float[] pi = pol.exitProbabilities(v.byLayer(), v.samples());
        Sweep sweep = new Sweep(v.outputs().withPolicy(pi), v.metric());
        return sweep.consistentEe(sweep.defaultConsistentEeGrid());
    }

    /** Speed-ups at which the selection score samples the frontier. */
    static final int SCORE_POINTS = 41;

    /**
     * The normalised area under the metric-vs-layer-speed-up frontier over [1, maxSpeedup]: the mean over
     * {@link #SCORE_POINTS} evenly spaced s of the best metric among points with speed-up ≥ s (the worst point's
     * metric when none is that fast, which a ConsistentEE sweep never needs: τ = 0 exits everything at layer 1).
     */
    public static double selectionScore(TradeoffCurve curve, double maxSpeedup) {
        double worst = Double.POSITIVE_INFINITY;
        for (TradeoffPoint p : curve.points()) worst = Math.min(worst, p.metric());
        double sum = 0;
        for (int i = 0; i < SCORE_POINTS; i++) {
            double s = 1 + (maxSpeedup - 1) * i / (SCORE_POINTS - 1);
            double fw = worst;
            sum += curve.pickBestAtSpeedup(s).map(TradeoffPoint::metric).orElse(fw);
        }
        return sum / SCORE_POINTS;
    }
}
