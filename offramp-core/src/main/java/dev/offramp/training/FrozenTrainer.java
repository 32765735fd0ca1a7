package dev.offramp.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.ExitLayout;
import dev.offramp.exits.ExitLoss;
import dev.offramp.exits.ExitTask;
import dev.offramp.exits.LayerwiseOutputs;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.TrainingRecord;
import dev.offramp.model.BertEncoder;
import dev.offramp.tokenizer.Encoding;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Frozen mode: trains the exits on a backbone that does not change (methods.md §2, DeeBERT's stage 2 and the
 * fast path for a model that was never fine-tuned). The pooled vector after every layer is computed once
 * ({@link FeatureCache}); then each step is only the heads' forward and backward, with the joint weighted
 * loss Σ_i w_i·loss_i / Σ_i w_i, w_i = i, over the trained exits, and AdamW.
 *
 * AdamW: a minimal private one (decoupled weight decay on dense weights only, not on biases or LayerNorm),
 * written here because the shared optimizer had not landed; the lead may swap it for that one.
 */
public final class FrozenTrainer {
    private FrozenTrainer() {}

    /**
     * @param epochs       passes over the training features
     * @param learningRate peak learning rate (heads: 1e-3 … 5e-3)
     * @param batchSize    samples per step
     * @param seed         shuffling, dropout
     * @param weightDecay  AdamW decoupled decay on dense weights
     * @param dropout      on the pooler output, training only
     * @param warmup       fraction of the steps with a linear warm-up; after it the rate decays linearly to 0
     *                     when linearDecay, else stays constant
     * @param linearDecay  see warmup
     * @param exits        the exits trained (1..L); null = all (two-stage stage 2: 1..L−1)
     * @param trainPooler  false keeps the pooler (and LayerNorms) as they are, e.g. after stage 1
     */
    public record Options(int epochs, float learningRate, int batchSize, long seed, float weightDecay, float dropout,
                          float warmup, boolean linearDecay, int[] exits, boolean trainPooler) {
        public Options {
            if (epochs <= 0 || batchSize <= 0) throw new IllegalArgumentException("epochs and batch size must be positive");
            if (!(learningRate > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
            if (dropout < 0 || dropout >= 1) throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
            if (warmup < 0 || warmup > 1) throw new IllegalArgumentException("warmup must be a fraction in [0, 1], got " + warmup);
        }

        public static Options defaults() {
            return new Options(5, 2e-3f, 32, 42, 0.01f, 0.1f, 0.06f, true, null, true);
        }

        public Options withEpochs(int e) { return new Options(e, learningRate, batchSize, seed, weightDecay, dropout, warmup, linearDecay, exits, trainPooler); }
        public Options withLearningRate(float lr) { return new Options(epochs, lr, batchSize, seed, weightDecay, dropout, warmup, linearDecay, exits, trainPooler); }
        public Options withBatchSize(int b) { return new Options(epochs, learningRate, b, seed, weightDecay, dropout, warmup, linearDecay, exits, trainPooler); }
        public Options withSeed(long s) { return new Options(epochs, learningRate, batchSize, s, weightDecay, dropout, warmup, linearDecay, exits, trainPooler); }
        public Options withWeightDecay(float w) { return new Options(epochs, learningRate, batchSize, seed, w, dropout, warmup, linearDecay, exits, trainPooler); }
        public Options withDropout(float d) { return new Options(epochs, learningRate, batchSize, seed, weightDecay, d, warmup, linearDecay, exits, trainPooler); }
        public Options withSchedule(float w, boolean decay) { return new Options(epochs, learningRate, batchSize, seed, weightDecay, dropout, w, decay, exits, trainPooler); }
        public Options withExits(int[] trained, boolean pooler) { return new Options(epochs, learningRate, batchSize, seed, weightDecay, dropout, warmup, linearDecay, trained, pooler); }
    }

    /** Scores one exit's outputs on the validation set; higher is better unless the Validation says otherwise. */
    @FunctionalInterface
    public interface Metric {
        double score(LayerwiseOutputs outputs, int exit);
    }

    /**
     * A validation set for per-epoch reports and best-epoch selection (the epoch with the best mean metric
     * over the trained exits is kept: every exit matters for early exit).
     */
    public record Validation(FeatureCache features, Metric metric, String metricName, boolean higherIsBetter) {
        public static Validation accuracy(FeatureCache features, int[] labels) {
            return new Validation(features, (o, e) -> o.accuracyPerExit(labels)[e - 1], "accuracy", true);
        }

        public static Validation mse(FeatureCache features, float[] targets) {
            return new Validation(features, (o, e) -> o.msePerExit(targets)[e - 1], "mse", false);
        }
    }

    /**
     * One epoch's numbers; per-exit arrays hold exit i at i − 1 (NaN for exits not trained).
     *
     * @param trainLoss      the joint loss, mean over steps
     * @param trainLossPerExit each exit's loss, mean over steps
     * @param trainAccuracy  accuracy of each exit on the training batches as seen during the epoch (dropout on,
     *                       weights moving), NaN for regression
     * @param validation     the validation metric of each exit after the epoch, or null without validation
     */
    public record EpochReport(int epoch, double trainLoss, double[] trainLossPerExit, double[] trainAccuracy,
                              double[] validation, double seconds) {
    }

    /** The trained heads (the best epoch's, when validated), the reports, and the epoch kept (1-based). */
    public record Result(ExitHeads heads, List<EpochReport> epochs, int bestEpoch, double seconds) {
        public EpochReport best() { return epochs.get(bestEpoch - 1); }
    }

    /**
     * Trains heads in place on cached features; labels for classification, targets for regression (K = 1).
     * When validation is given, the heads end with the parameters of the best epoch.
     */
    public static Result train(ExitHeads heads, FeatureCache train, int[] labels, float[] targets,
                               Validation validation, Options o) {
        return train(heads, train, labels, targets, validation, o, TrainingProgress.NONE);
    }

    /** As above, reporting each epoch as a progress stage. */
    public static Result train(ExitHeads heads, FeatureCache train, int[] labels, float[] targets,
                               Validation validation, Options o, TrainingProgress progress) {
        long t0 = System.nanoTime();
        int n = train.samples, l = heads.layers, h = heads.hidden, k = heads.outputs, bMax = o.batchSize();
        boolean regression = k == 1;
        if (train.layers != l || train.hidden != h) {
            throw new IllegalArgumentException("features have " + train.layers + " layers of width " + train.hidden
                    + ", the exits " + l + " of width " + h);
        }
        if (regression ? targets == null || targets.length != n : labels == null || labels.length != n) {
            throw new IllegalArgumentException((regression ? "targets" : "labels") + " must have one value per sample (" + n + ")");
        }
        if (n == 0) throw new IllegalArgumentException("no training samples");
        int[] exits = o.exits() != null ? o.exits().clone() : oneTo(l);
        float[] weights = ExitLoss.jointWeights(l, exits);  // checks the exit numbers

        ExitHeads.Activations act = new ExitHeads.Activations(heads, bMax);
        float[] pooled = new float[bMax * h];   // (B, H)
        float[] dLogits = new float[bMax * k];  // (B, K)
        int[] batchLabels = new int[bMax];
        float[] batchTargets = new float[bMax];
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        SplittableRandom shuffle = new SplittableRandom(o.seed()), dropoutRng = new SplittableRandom(o.seed() ^ 0x5DEECE66DL);
        AdamW adam = new AdamW(heads, o.weightDecay(), trainable(heads, exits, o.trainPooler()));
        int stepsPerEpoch = (n + bMax - 1) / bMax, totalSteps = stepsPerEpoch * o.epochs();
        int warmupSteps = Math.round(o.warmup() * totalSteps);

        List<EpochReport> reports = new ArrayList<>();
        float[] best = null;
        double bestScore = Double.NaN;
        int bestEpoch = o.epochs(), step = 0;
        for (int epoch = 1; epoch <= o.epochs(); epoch++) {
            long e0 = System.nanoTime();
            progress.stage("exits epoch " + epoch + "/" + o.epochs(), stepsPerEpoch, "batches");
            for (int i = n - 1; i > 0; i--) { int j = shuffle.nextInt(i + 1), t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
            double lossSum = 0;
            double[] lossPerExit = new double[l];
            long[] correct = new long[l];
            for (int start = 0; start < n; start += bMax, step++) {
                int b = Math.min(bMax, n - start);
                for (int s = 0; s < b; s++) {
                    if (regression) batchTargets[s] = targets[perm[start + s]];
                    else batchLabels[s] = labels[perm[start + s]];
                }
                heads.zeroGrads();
                double joint = 0;
                for (int exit : exits) {
                    int layer = exit - 1;
                    train.gather(exit, perm, start, start + b, pooled);
                    heads.forward(act, exit, pooled, 0, b, o.dropout(), dropoutRng);
                    float loss;
                    if (regression) {
                        loss = ExitLoss.mse(act.probs(), batchTargets, b);
                        ExitLoss.mseBackward(dLogits, act.probs(), batchTargets, b, weights[layer]);
                    } else {
                        loss = ExitLoss.crossEntropy(act.probs(), batchLabels, b, k);
                        ExitLoss.crossEntropyBackward(dLogits, act.probs(), batchLabels, b, k, weights[layer]);
                        correct[layer] += countCorrect(act.probs(), batchLabels, b, k);
                    }
                    joint += weights[layer] * loss;
                    lossPerExit[layer] += loss;
                    heads.backward(act, pooled, 0, dLogits, null, 0);  // frozen backbone: no input gradient
                }
                lossSum += joint;
                adam.step(learningRate(o, step, warmupSteps, totalSteps), step + 1);
                int done = start / bMax + 1;
                progress.advance(done);
                if (done % 50 == 0) progress.status(String.format(java.util.Locale.ROOT, "loss %.4f", lossSum / done));
            }
            progress.endStage();
            double[] lossOut = nans(l), accOut = nans(l);
            for (int exit : exits) {
                int layer = exit - 1;
                lossOut[layer] = lossPerExit[layer] / stepsPerEpoch;
                accOut[layer] = regression ? Double.NaN : (double) correct[layer] / n;
            }
            double[] val = null;
            if (validation != null) {
                LayerwiseOutputs out = LayerwiseOutputs.fromPooled(heads, validation.features().byLayer(),
                        validation.features().samples);
                val = nans(l);
                double mean = 0;
                for (int exit : exits) { val[exit - 1] = validation.metric().score(out, exit); mean += val[exit - 1]; }
                mean /= exits.length;
                double signed = validation.higherIsBetter() ? mean : -mean;
                if (best == null || signed > bestScore) {
                    bestScore = signed;
                    bestEpoch = epoch;
                    best = heads.params().clone();
                }
            }
            reports.add(new EpochReport(epoch, lossSum / stepsPerEpoch, lossOut, accOut, val, (System.nanoTime() - e0) / 1e9));
            progress.log(String.format(java.util.Locale.ROOT, "epoch %d: loss %.4f%s", epoch, lossSum / stepsPerEpoch,
                    val == null ? "" : " validation " + validation.metricName() + " per exit " + TrainingProgress.perExit(val)));
        }
        if (best != null) System.arraycopy(best, 0, heads.params(), 0, best.length);
        return new Result(heads, reports, bestEpoch, (System.nanoTime() - t0) / 1e9);
    }

    private static float learningRate(Options o, int step, int warmupSteps, int totalSteps) {
        if (step < warmupSteps) return o.learningRate() * (step + 1) / warmupSteps;
        if (!o.linearDecay()) return o.learningRate();
        return o.learningRate() * Math.max(0f, (float) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
    }

    private static int countCorrect(float[] probs, int[] labels, int b, int k) {
        int c = 0;
        for (int r = 0; r < b; r++) {
            int best = 0;
            for (int j = 1; j < k; j++) if (probs[r * k + j] > probs[r * k + best]) best = j;
            if (best == labels[r]) c++;
        }
        return c;
    }

    /** Per tensor of heads.tensors(): does this run update it? The exits' own tensors of trained layers, and
     *  the pooler and LayerNorms only when trainPooler (a shared pooler: whenever any exit trains). */
    private static boolean[] trainable(ExitHeads heads, int[] exits, boolean trainPooler) {
        List<ExitHeads.Tensor> ts = heads.tensors();
        boolean[] t = new boolean[ts.size()];
        for (int i = 0; i < t.length; i++) {
            ExitHeads.Tensor tensor = ts.get(i);
            boolean layerTrained = tensor.exit() == 0 || Arrays.stream(exits).anyMatch(e -> e == tensor.exit());
            t[i] = layerTrained && (tensor.part().equals("classifier") || trainPooler);
        }
        return t;
    }

    /** {1, 2, …, n}. */
    private static int[] oneTo(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i + 1;
        return a;
    }

    private static double[] nans(int l) {
        double[] a = new double[l];
        Arrays.fill(a, Double.NaN);
        return a;
    }

    // ----------------------------------------------------------------------------------------------------
    // the whole fast path: features (cached) → heads → a MultiExitModel

    /**
     * Extracts features (or reads them from cacheDir), creates fresh heads (pooler from the backbone's when it
     * has one), trains them and returns the model with its training record. Validation may be null.
     *
     * @param backbone  the backbone's reference, saved with the model ("bge-small-en-v1.5" or a folder)
     * @param maxLength the truncation length the encodings were made with (part of the cache key)
     * @param cacheDir  where feature caches live; null: no file cache
     */
    public static MultiExitModel run(BertEncoder encoder, String backbone, ExitTask task, ExitLayout layout,
                                     List<Encoding> trainInputs, int[] trainLabels, float[] trainTargets,
                                     List<Encoding> validInputs, int[] validLabels, float[] validTargets,
                                     int maxLength, Path cacheDir, Options o) throws IOException {
        return run(encoder, backbone, task, layout, trainInputs, trainLabels, trainTargets, validInputs, validLabels,
                validTargets, maxLength, cacheDir, o, TrainingProgress.NONE);
    }

    /** As above, reporting feature extraction and every epoch to progress. */
    public static MultiExitModel run(BertEncoder encoder, String backbone, ExitTask task, ExitLayout layout,
                                     List<Encoding> trainInputs, int[] trainLabels, float[] trainTargets,
                                     List<Encoding> validInputs, int[] validLabels, float[] validTargets,
                                     int maxLength, Path cacheDir, Options o, TrainingProgress progress)
            throws IOException {
        long t0 = System.nanoTime();
        int maxBatch = 64, maxTokens = 64 * 128;
        FeatureCache train = features(encoder, backbone, task.name() + "/train", layout, trainInputs, maxLength,
                cacheDir, maxBatch, maxTokens, progress);
        Validation validation = null;
        if (validInputs != null && !validInputs.isEmpty()) {
            FeatureCache valid = features(encoder, backbone, task.name() + "/validation", layout, validInputs,
                    maxLength, cacheDir, maxBatch, maxTokens, progress);
            validation = task.regression() ? Validation.mse(valid, validTargets) : Validation.accuracy(valid, validLabels);
        }
        ExitHeads heads = ExitHeads.create(encoder.config().hidden(), encoder.config().layers(), task.outputs(), layout,
                encoder.weights(), o.seed());
        Result r = train(heads, train, trainLabels, trainTargets, validation, o, progress);
        ObjectNode opts = new ObjectMapper().createObjectNode();
        opts.put("batch_size", o.batchSize());
        opts.put("weight_decay", Double.parseDouble(Float.toString(o.weightDecay())));
        opts.put("dropout", Double.parseDouble(Float.toString(o.dropout())));
        opts.put("warmup", Double.parseDouble(Float.toString(o.warmup())));
        opts.put("linear_decay", o.linearDecay());
        opts.put("train_pooler", o.trainPooler());
        opts.put("best_epoch", r.bestEpoch());
        opts.put("max_length", maxLength);
        opts.put("train_samples", trainInputs.size());
        double[] dev = r.best().validation() != null ? r.best().validation() : new double[0];
        // via the float's decimal string, so config.json says 0.003 and not 0.003000000026077032
        double lr = Double.parseDouble(Float.toString(o.learningRate()));
        TrainingRecord record = new TrainingRecord("frozen", o.epochs(), lr, o.seed(),
                (System.nanoTime() - t0) / 1e9, validation == null ? "none" : validation.metricName(), dev, opts);
        return new MultiExitModel(backbone, task, heads, null, record, null);
    }

    /** The features of one split, from cacheDir's file for the key when it is there (null cacheDir: memory only). */
    static FeatureCache features(BertEncoder encoder, String backbone, String split, ExitLayout layout,
                                         List<Encoding> inputs, int maxLength, Path cacheDir, int maxBatch,
                                         int maxTokens, TrainingProgress progress) throws IOException {
        String key = FeatureCache.key(backbone, split, layout.pooling(), maxLength, inputs.size());
        Path file = cacheDir == null ? null : FeatureCache.fileFor(cacheDir, key);
        return FeatureCache.computeOrLoad(encoder, inputs, layout.pooling(), maxBatch, maxTokens, file, key, progress);
    }

    // ----------------------------------------------------------------------------------------------------

    /** Minimal AdamW over the heads' flat parameters (β1 0.9, β2 0.999, ε 1e-8), bias-corrected. */
    private static final class AdamW {
        private static final float BETA1 = 0.9f, BETA2 = 0.999f, EPS = 1e-8f;
        private final ExitHeads heads;
        private final float weightDecay;
        private final boolean[] trainable;
        private final float[] m, v;

        AdamW(ExitHeads heads, float weightDecay, boolean[] trainable) {
            this.heads = heads;
            this.weightDecay = weightDecay;
            this.trainable = trainable;
            m = new float[heads.params().length];
            v = new float[heads.params().length];
        }

        void step(float lr, int t) {
            float[] p = heads.params(), g = heads.grads();
            float c1 = 1f - (float) Math.pow(BETA1, t), c2 = 1f - (float) Math.pow(BETA2, t);
            for (int ti = 0; ti < trainable.length; ti++) {
                if (!trainable[ti]) continue;
                ExitHeads.Tensor tensor = heads.tensors().get(ti);
                float wd = tensor.matrix() ? weightDecay : 0f;
                for (int i = tensor.offset(), end = i + tensor.size(); i < end; i++) {
                    float gi = g[i];
                    m[i] = BETA1 * m[i] + (1 - BETA1) * gi;
                    v[i] = BETA2 * v[i] + (1 - BETA2) * gi * gi;
                    float mh = m[i] / c1, vh = v[i] / c2;
                    p[i] -= lr * (mh / ((float) Math.sqrt(vh) + EPS) + wd * p[i]);
                }
            }
        }
    }
}
