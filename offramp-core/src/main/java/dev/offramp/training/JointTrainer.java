package dev.offramp.training;

import dev.offramp.model.ParameterSet;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.data.Batching;
import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.ExitLayout;
import dev.offramp.exits.ExitLoss;
import dev.offramp.exits.ExitTask;
import dev.offramp.exits.JointExitStep;
import dev.offramp.exits.LayerwiseOutputs;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.TrainingRecord;
import dev.offramp.model.BertEncoder;
import dev.offramp.model.EncoderTrainer;
import dev.offramp.model.TrainingStep;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertWeights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Joint fine-tuning of backbone and exits (PABEE/DeeBERT's standard baseline, methods.md §2):
 * loss = Σ_i w_i·CE_i / Σ_i w_i with w_i = i, backbone and every exit trained together by AdamW, the heads with
 * their own (higher) learning rate. Length-bucketed batches, linear warm-up and decay, global-norm clipping,
 * dropout. After each epoch the validation split is scored exit by exit; the best epoch (mean metric over the
 * exits) is what {@link #train} returns. A checkpoint is written after every epoch and every
 * {@code checkpointSteps} batches, so an interrupted run resumes where it stopped (BERT-base epochs take an hour
 * here). Resumed runs see the same batches in the same order; only dropout masks differ. The best epoch so far is
 * kept beside the checkpoint ({@link #BEST_DIR}), so a resumed run still chooses among all the epochs, not only
 * those since it restarted.
 */
public final class JointTrainer {
    /** The best epoch so far, as a model folder inside the checkpoint folder. */
    public static final String BEST_DIR = "best-epoch";
    /**
     * @param backboneLr peak learning rate of the encoder (BERT fine-tuning: 2e-5 … 5e-5)
     * @param headsLr    peak learning rate of the exits (higher: they start from scratch)
     * @param dropout    hidden and attention dropout of the encoder (BERT: 0.1)
     * @param headDropout dropout on the exits' pooler output
     * @param warmup     fraction of steps with linear warm-up
     * @param clipNorm   global gradient-norm bound (BERT: 1.0)
     * @param checkpointSteps a mid-epoch checkpoint every this many batches; 0: at epoch ends only
     * @param exits      the exits in the loss (1..L), null = all; {L} is two-stage training's stage 1. The best
     *                   epoch is chosen by the mean validation metric over these exits only.
     */
    public record Options(int epochs, float backboneLr, float headsLr, int batchSize, long seed, float weightDecay,
                          float dropout, float headDropout, float warmup, double clipNorm, int checkpointSteps,
                          int[] exits) {
        public Options {
            if (epochs <= 0 || batchSize <= 0) throw new IllegalArgumentException("epochs and batch size must be positive");
            if (checkpointSteps < 0) throw new IllegalArgumentException("checkpointSteps must be >= 0, got " + checkpointSteps);
            if (!(backboneLr > 0) || !(headsLr > 0)) throw new IllegalArgumentException("learning rates must be positive");
            if (exits != null && exits.length == 0) throw new IllegalArgumentException("exits must name at least one exit (null = all)");
            exits = exits == null ? null : exits.clone();
        }

        /** Every exit in the loss. */
        public Options(int epochs, float backboneLr, float headsLr, int batchSize, long seed, float weightDecay,
                       float dropout, float headDropout, float warmup, double clipNorm, int checkpointSteps) {
            this(epochs, backboneLr, headsLr, batchSize, seed, weightDecay, dropout, headDropout, warmup, clipNorm,
                    checkpointSteps, null);
        }

        public static Options defaults() {
            return new Options(2, 3e-5f, 5e-4f, 32, 42, 0.01f, 0.1f, 0.1f, 0.06f, 1.0, 0);
        }

        public Options withExits(int[] trained) {
            return new Options(epochs, backboneLr, headsLr, batchSize, seed, weightDecay, dropout, headDropout, warmup,
                    clipNorm, checkpointSteps, trained);
        }
    }

    private JointTrainer() {}

    /**
     * Fine-tunes {@code weights} (in place) and fresh exits on the training inputs.
     *
     * @param backboneName the backbone's reference saved with the model
     * @param checkpointDir where epoch checkpoints go (resume point); null: none
     */
    public static MultiExitModel train(BertWeights weights, String backboneName, ExitTask task, ExitLayout layout,
                                       List<Encoding> trainIn, int[] labels, float[] targets,
                                       List<Encoding> validIn, int[] validLabels, float[] validTargets,
                                       int maxLength, Options o, Path checkpointDir, TrainingProgress progress)
            throws IOException {
        long t0 = System.nanoTime();
        int l = weights.config.layers(), h = weights.config.hidden();
        boolean regression = task.regression();
        ExitHeads heads = ExitHeads.create(h, l, task.outputs(), layout, weights, o.seed());
        EncoderTrainer encoder = new EncoderTrainer(weights,
                new EncoderTrainer.Options(o.dropout(), o.dropout(), o.seed(), false, 0));

        ParameterSet encParams = new ParameterSet();
        encoder.addParameters(encParams);
        ParameterSet headParams = new ParameterSet().add("exits", heads.params(), heads.grads(), false);
        ParameterSet all = new ParameterSet();
        for (ParameterSet.Entry e : encParams.entries()) all.add(e.name(), e.param(), e.grad(), e.decay());
        all.add("exits", heads.params(), heads.grads(), false);
        AdamW.Options ao = new AdamW.Options(0.9, 0.999, 1e-8, o.weightDecay());
        AdamW encAdam = new AdamW(encParams, ao), headAdam = new AdamW(headParams, ao);

        int n = trainIn.size();
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) lengths[i] = trainIn.get(i).length();
        int stepsPerEpoch = (n + o.batchSize() - 1) / o.batchSize();
        int totalSteps = stepsPerEpoch * o.epochs();
        LearningRateSchedule encLr = new LearningRateSchedule(o.backboneLr(), Math.round(o.warmup() * totalSteps), totalSteps);
        LearningRateSchedule headLr = new LearningRateSchedule(o.headsLr(), Math.round(o.warmup() * totalSteps), totalSteps);
        int[] trained = o.exits() != null ? o.exits() : java.util.stream.IntStream.rangeClosed(1, l).toArray();
        float[] lossWeights = ExitLoss.jointWeights(l, trained);  // zero weight: the exit is skipped, forward and backward
        String mode = o.exits() == null ? "joint" : "joint-exits";
        JointExitStep exitStep = new JointExitStep(heads, o.batchSize());
        SplittableRandom headRng = new SplittableRandom(o.seed() ^ 0x9E3779B97F4A7C15L);

        int startEpoch = 1, startBatch = 0, step = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        int bestEpoch = 0;
        double[] bestPerExit = null;
        float[] bestHeads = null;
        BertWeights bestWeights = null;
        List<JointCheckpoint.Group> groups = List.of(new JointCheckpoint.Group(encParams, encAdam), new JointCheckpoint.Group(headParams, headAdam));
        JointCheckpoint ck = checkpointDir == null ? null : JointCheckpoint.loadIfPresent(checkpointDir, JointCheckpoint.FILE, groups);
        if (ck != null) {
            startEpoch = ck.epoch() + 1;
            startBatch = ck.batchesDone();
            step = ck.step();
            progress.log(ck.batchesDone() == 0
                    ? String.format(Locale.ROOT, "resuming after epoch %d (step %d) from %s", ck.epoch(), step, checkpointDir)
                    : String.format(Locale.ROOT, "resuming in epoch %d after batch %d (step %d) from %s", startEpoch,
                    startBatch, step, checkpointDir));
        }
        Path bestDir = checkpointDir == null ? null : checkpointDir.resolve(BEST_DIR);
        if (ck != null && Files.isRegularFile(bestDir.resolve(MultiExitModel.CONFIG_FILE))) {
            MultiExitModel best = MultiExitModel.load(bestDir);
            bestEpoch = best.training().options().path("best_epoch").asInt();
            bestScore = best.training().options().path("validation_score").asDouble();
            bestPerExit = best.training().devMetrics();
            bestHeads = best.heads().params().clone();
            bestWeights = best.fineTunedBackbone();
            progress.log(String.format(Locale.ROOT, "best epoch so far: %d (validation mean over the exits %.4f)",
                    bestEpoch, bestScore));
        }

        BertEncoder inference = new BertEncoder(weights);
        List<double[]> history = new ArrayList<>();
        float[][] dHidden = new float[l + 1][];
        int[] offsets = new int[o.batchSize()], lens = new int[o.batchSize()], bLabels = new int[o.batchSize()];
        float[] bTargets = new float[o.batchSize()];
        float[][] hiddenByLayer = new float[l][];
        List<Encoding> batch = new ArrayList<>(o.batchSize());
        for (int epoch = startEpoch; epoch <= o.epochs(); epoch++) {
            List<int[]> batches = Batching.lengthBucketed(lengths, o.batchSize(), o.seed(), epoch);
            progress.stage("joint epoch " + epoch + "/" + o.epochs(), batches.size(), "batches");
            long e0 = System.nanoTime(), tokens = 0;
            double lossSum = 0;
            int firstBatch = epoch == startEpoch ? startBatch : 0;
            for (int bi = firstBatch; bi < batches.size(); bi++, step++) {
                int[] idx = batches.get(bi);
                batch.clear();
                for (int j = 0; j < idx.length; j++) {
                    batch.add(trainIn.get(idx[j]));
                    if (regression) bTargets[j] = targets[idx[j]];
                    else bLabels[j] = labels[idx[j]];
                }
                TrainingStep s = encoder.forward(batch, true);
                int b = s.size(), nt = s.tokens();
                tokens += nt;
                for (int j = 0; j < b; j++) { offsets[j] = s.offset(j); lens[j] = s.length(j); }
                for (int li = 1; li <= l; li++) {
                    hiddenByLayer[li - 1] = s.layerOutput(li);
                    if (dHidden[li] == null || dHidden[li].length < nt * h) dHidden[li] = new float[Math.max(nt * h, 1024 * h)];
                    else Arrays.fill(dHidden[li], 0, nt * h, 0f);
                }
                float[][] dExit = Arrays.copyOfRange(dHidden, 1, l + 1);
                double loss = exitStep.run(hiddenByLayer, offsets, lens, b, regression ? null : bLabels,
                        regression ? bTargets : null, lossWeights, o.headDropout(), headRng, dExit);
                encoder.backward(s, dHidden);
                GradientClipping.clipGlobalNorm(all, o.clipNorm());
                encAdam.step(encLr.at(step));
                headAdam.step(headLr.at(step));
                all.zeroGradients();
                lossSum += loss;
                if (checkpointDir != null && o.checkpointSteps() > 0 && (bi + 1) % o.checkpointSteps() == 0
                        && bi + 1 < batches.size()) {
                    JointCheckpoint.save(checkpointDir, JointCheckpoint.FILE, epoch - 1, bi + 1, step + 1, groups);
                }
                progress.advance(bi + 1);
                if ((bi + 1 - firstBatch) % 20 == 0) {
                    double sec = (System.nanoTime() - e0) / 1e9;
                    progress.status(String.format(Locale.ROOT, "loss %.4f, %.0f tokens/s", lossSum / (bi + 1 - firstBatch), tokens / sec));
                }
            }
            progress.endStage();
            double epochSec = (System.nanoTime() - e0) / 1e9;
            inference.repack();
            double[] perExit = validate(inference, heads, task, validIn, validLabels, validTargets, regression, progress);
            double score = Arrays.stream(trained).mapToDouble(e -> perExit[e - 1]).average().orElse(Double.NaN);
            history.add(perExit);
            progress.log(String.format(Locale.ROOT, "epoch %d: loss %.4f, %.0f s, %.0f tokens/s; validation %s per exit %s",
                    epoch, lossSum / (batches.size() - firstBatch), epochSec, tokens / epochSec, regression ? "mse" : "accuracy", TrainingProgress.perExit(perExit))
                    + (o.exits() == null ? "" : " (trained: exits " + Arrays.toString(trained) + ")"));
            if (score > bestScore || bestHeads == null) {
                bestScore = score;
                bestEpoch = epoch;
                bestPerExit = perExit;
                bestHeads = heads.params().clone();
                bestWeights = weights.deepCopy();
                if (bestDir != null) {
                    ObjectNode b = new ObjectMapper().createObjectNode().put("best_epoch", epoch).put("validation_score", score);
                    new MultiExitModel(backboneName, task, heads, weights, new TrainingRecord(mode, o.epochs(),
                            o.backboneLr(), o.seed(), 0, regression ? "mse" : "accuracy", perExit, b), null).save(bestDir);
                }
            }
            if (checkpointDir != null) JointCheckpoint.save(checkpointDir, JointCheckpoint.FILE, epoch, step, groups);
        }
        if (bestHeads == null) throw new IllegalStateException("no epoch left to train (checkpoint already at the last epoch)");
        System.arraycopy(bestHeads, 0, heads.params(), 0, bestHeads.length);
        ObjectNode opts = new ObjectMapper().createObjectNode();
        opts.put("batch_size", o.batchSize());
        opts.put("heads_lr", (double) o.headsLr());
        opts.put("weight_decay", (double) o.weightDecay());
        opts.put("dropout", (double) o.dropout());
        opts.put("head_dropout", (double) o.headDropout());
        opts.put("warmup", (double) o.warmup());
        opts.put("clip_norm", o.clipNorm());
        opts.put("best_epoch", bestEpoch);
        if (o.exits() != null) {
            var exitsNode = opts.putArray("exits");
            for (int e : trained) exitsNode.add(e);
        }
        opts.put("max_length", maxLength);
        opts.put("train_samples", n);
        TrainingRecord record = new TrainingRecord(mode, o.epochs(), o.backboneLr(), o.seed(),
                (System.nanoTime() - t0) / 1e9, regression ? "mse" : "accuracy", bestPerExit, opts);
        return new MultiExitModel(backboneName, task, heads, bestWeights, record, null);
    }

    private static double[] validate(BertEncoder inference, ExitHeads heads, ExitTask task, List<Encoding> validIn,
                                     int[] labels, float[] targets, boolean regression, TrainingProgress progress) {
        MultiExitModel probe = new MultiExitModel("validation", task, heads, null, null, null);
        progress.stage("validation", validIn.size(), "inputs");
        LayerwiseOutputs out = LayerwiseOutputs.compute(inference, probe, validIn, 64, 64 * 128, i -> progress.advance(i));
        progress.endStage();
        if (regression) {
            double[] mse = out.msePerExit(targets);
            for (int i = 0; i < mse.length; i++) mse[i] = -mse[i];
            return mse;
        }
        return out.accuracyPerExit(labels);
    }
}
