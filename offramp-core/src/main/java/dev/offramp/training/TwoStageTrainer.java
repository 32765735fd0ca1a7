package dev.offramp.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.ExitLayout;
import dev.offramp.exits.ExitTask;
import dev.offramp.exits.LayerwiseOutputs;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.TrainingRecord;
import dev.offramp.model.BertEncoder;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertWeights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * DeeBERT's two-stage training (methods.md §2). Stage 1 fine-tunes the backbone with the last exit only
 * ({@link JointTrainer} with the loss on exit L), so the full-depth model is trained as a plain fine-tuned
 * classifier and gives nothing up to the early exits. Stage 2 freezes that backbone and trains exits 1..L−1 on its
 * per-layer features, computed once ({@link FrozenTrainer}); exit L stays as stage 1 left it.
 *
 * Each exit has its own pooler: with one shared pooler, stage 2 could only train linear classifiers on top of a
 * pooler tuned for layer L. Stage 1's model is saved in the checkpoint folder, so a rerun after a stop in stage 2
 * starts at stage 2, and stage 1's own checkpoints let a rerun resume inside stage 1.
 */
public final class TwoStageTrainer {
    /** Stage 1's model, inside the checkpoint folder. */
    public static final String STAGE1_DIR = "stage-1";

    private TwoStageTrainer() {}

    /**
     * Fine-tunes {@code weights} (in place) with the last exit, then trains the other exits on the result.
     *
     * @param stage1        backbone and last exit (its exits are set here: {L})
     * @param stage2        exits 1..L−1 on the frozen backbone (its exits are set here)
     * @param checkpointDir stage 1's checkpoints and its finished model; null: none (nothing survives a stop)
     * @param cacheDir      where stage 2's features are cached, keyed by stage 1's model; null: memory only
     */
    public static MultiExitModel train(BertWeights weights, String backboneName, ExitTask task, ExitLayout layout,
                                       List<Encoding> trainIn, int[] labels, float[] targets,
                                       List<Encoding> validIn, int[] validLabels, float[] validTargets, int maxLength,
                                       JointTrainer.Options stage1, FrozenTrainer.Options stage2, Path checkpointDir,
                                       Path cacheDir, TrainingProgress progress) throws IOException {
        long t0 = System.nanoTime();
        int l = weights.config.layers();
        if (l < 2) throw new IllegalArgumentException("two-stage training needs at least 2 layers, the backbone has " + l);
        if (layout.sharedPooler()) {
            throw new IllegalArgumentException("two-stage training needs one pooler per exit: stage 1 tunes the last exit's"
                    + " pooler, and stage 2 must leave it as it is");
        }
        Path stage1Dir = checkpointDir == null ? null : checkpointDir.resolve(STAGE1_DIR);
        MultiExitModel first;
        boolean stage1Read = false;
        if (stage1Dir != null && Files.isRegularFile(stage1Dir.resolve(MultiExitModel.CONFIG_FILE))) {
            first = MultiExitModel.load(stage1Dir);
            progress.log("stage 1 already done, read from " + stage1Dir);
            stage1Read = true;
        } else {
            first = JointTrainer.train(weights, backboneName, task, layout, trainIn, labels, targets, validIn, validLabels,
                    validTargets, maxLength, stage1.withExits(new int[]{l}), checkpointDir, progress);
            if (stage1Dir != null) first.save(stage1Dir);
        }
        double stage1Seconds = first.training().wallSeconds();

        // stage 2: features of the fine-tuned backbone, keyed by stage 1's exits so a retrained stage 1 never
        // reads another run's features
        BertWeights tuned = first.fineTunedBackbone();
        BertEncoder encoder = new BertEncoder(tuned);
        String backboneKey = "two-stage:" + (stage1Dir != null ? stage1Dir.toAbsolutePath().normalize() : backboneName)
                + "#" + Long.toHexString(checksum(first.heads().params()));
        int maxBatch = 64, maxTokens = 64 * 128;
        FeatureCache trainF = FrozenTrainer.features(encoder, backboneKey, task.name() + "/train", layout, trainIn,
                maxLength, cacheDir, maxBatch, maxTokens, progress);
        FeatureCache validF = validIn == null || validIn.isEmpty() ? null
                : FrozenTrainer.features(encoder, backboneKey, task.name() + "/validation", layout, validIn, maxLength,
                cacheDir, maxBatch, maxTokens, progress);
        FrozenTrainer.Validation validation = validF == null ? null : task.regression()
                ? FrozenTrainer.Validation.mse(validF, validTargets) : FrozenTrainer.Validation.accuracy(validF, validLabels);
        ExitHeads heads = first.heads().copy();
        int[] early = IntStream.rangeClosed(1, l - 1).toArray();
        FrozenTrainer.Result r = FrozenTrainer.train(heads, trainF, labels, targets, validation,
                stage2.withExits(early, true), progress);

        // every exit on validation, the last one included (stage 2 reports only the ones it trained);
        // higher is better, as in JointTrainer's record (regression: −MSE)
        double[] perExit = new double[0];
        if (validF != null) {
            LayerwiseOutputs out = LayerwiseOutputs.fromPooled(heads, validF.byLayer(), validF.samples);
            perExit = task.regression() ? out.msePerExit(validTargets) : out.accuracyPerExit(validLabels);
            if (task.regression()) for (int i = 0; i < perExit.length; i++) perExit[i] = -perExit[i];
            progress.log(String.format(Locale.ROOT, "two-stage: validation %s per exit %s", task.regression() ? "-mse" : "accuracy",
                    TrainingProgress.perExit(perExit)));
        }
        ObjectNode opts = first.training().options() instanceof ObjectNode o ? o.deepCopy() : new ObjectMapper().createObjectNode();
        opts.remove("exits");
        opts.put("stage1_best_epoch", opts.path("best_epoch").asInt());
        opts.remove("best_epoch");
        opts.put("stage1_wall_s", Math.round(stage1Seconds * 10) / 10.0);
        opts.put("stage2_epochs", stage2.epochs());
        opts.put("stage2_lr", Double.parseDouble(Float.toString(stage2.learningRate())));
        opts.put("stage2_best_epoch", r.bestEpoch());
        opts.put("stage2_wall_s", Math.round(r.seconds() * 10) / 10.0);
        TrainingRecord record = new TrainingRecord("two-stage", stage1.epochs(), stage1.backboneLr(), stage1.seed(),
                (System.nanoTime() - t0) / 1e9 + (stage1Read ? stage1Seconds : 0),
                task.regression() ? "mse" : "accuracy", perExit, opts);
        return new MultiExitModel(backboneName, task, heads, tuned, record, null);
    }

    /** FNV-1a over the float bits: tells one stage-1 model's exits from another's. */
    private static long checksum(float[] a) {
        long h = 0xcbf29ce484222325L;
        for (float f : a) h = (h ^ Float.floatToRawIntBits(f)) * 0x100000001b3L;
        return h;
    }
}
