package dev.offramp.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.consistentee.ConsistentEeJointTrainer;
import dev.offramp.consistentee.ConsistentEeTrainer;
import dev.offramp.consistentee.MemorizedLayer;
import dev.offramp.consistentee.PolicyOutputs;
import dev.offramp.eval.PolicyCalibration;
import dev.offramp.eval.calibration.ExitOutputs;
import dev.offramp.exits.LayerwiseOutputs;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.PolicyNetworks;
import dev.offramp.exits.TrainingRecord;
import dev.offramp.model.BertEncoder;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.tokenizer.WordPieceTokenizer;
import dev.offramp.training.FeatureCache;
import dev.offramp.training.TrainingProgress;
import dev.offramp.weights.ModelRegistry;
import dev.offramp.weights.PretrainedModel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * train --mode consistentee: exit policies on top of a trained multi-exit model (--from). Stage 2 of
 * methods.md §4: backbone and exits frozen, so the pooled features of every split are computed once (or read from
 * the feature cache) and the policies train on them in seconds. The new folder holds the same exits and backbone
 * reference plus the policies and the training samples' memorized layers; its cache/ is pre-filled with the
 * validation and dev exit outputs and π computed from those features, so eval and report need no extra pass.
 */
final class ConsistentEeTraining {
    private ConsistentEeTraining() {}

    /** STS-B style regression: an exit "predicts correctly" for the memorized layer when within this of the target. */
    static final double REGRESSION_DELTA = 0.5;

    /**
     * @param stages "policy" (stage 2 only) or "all" (stage 2, then stage 3 with {@code joint})
     */
    static MultiExitModel train(Path fromDir, String taskName, int maxExamples, Path cacheDir, Path out,
                                ConsistentEeTrainer.Options o, String stages, ConsistentEeJointTrainer.Options joint,
                                TrainingProgress progress) throws IOException {
        if (!stages.equals("policy") && !stages.equals("all")) {
            throw new IllegalArgumentException("unknown --stages '" + stages + "' (available: policy, all)");
        }
        long t0 = System.nanoTime();
        MultiExitModel from = MultiExitModel.load(fromDir);
        TaskSplits splits;
        try {
            splits = TaskSplits.forModel(from, taskName, maxExamples);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model " + fromDir + ": " + e.getMessage(), e);
        }
        String task = splits.task().name();
        PretrainedModel bb = ModelRegistry.load(from.backbone(), new UnpackBar());
        BertEncoder encoder = from.encoder(bb.weights());
        WordPieceTokenizer tok = bb.newTokenizer();
        int maxLength = from.trainedMaxLength();
        List<Encoding> trainIn = TaskSplits.encode(tok, splits.train(), maxLength);
        List<Encoding> validIn = TaskSplits.encode(tok, splits.validation(), maxLength);
        List<Encoding> devIn = TaskSplits.encode(tok, splits.dev(), maxLength);
        // a fine-tuned backbone has features of its own: key them by the folder, not the published name
        String backboneKey = from.fineTunedBackbone() != null ? fromDir.toAbsolutePath().normalize().toString() : from.backbone();
        Path dir = cacheDir != null ? cacheDir : ModelRegistry.cacheRoot().resolve("features");
        FeatureCache train = features(encoder, backboneKey, task + "/train", from, trainIn, maxLength, dir, progress);
        FeatureCache valid = features(encoder, backboneKey, task + "/validation", from, validIn, maxLength, dir, progress);
        FeatureCache dev = features(encoder, backboneKey, task + "/dev", from, devIn, maxLength, dir, progress);

        boolean regression = from.task().regression();
        int[] labels = regression ? null : TaskSplits.labels(splits.train());
        float[] targets = regression ? TaskSplits.scores(splits.train()) : null;
        long c0 = System.nanoTime();
        LayerwiseOutputs trainOut = LayerwiseOutputs.fromPooled(from.heads(), train.byLayer(), train.samples);
        int[] memorized = regression ? MemorizedLayer.fromScores(trainOut, targets, REGRESSION_DELTA)
                : MemorizedLayer.fromOutputs(trainOut, labels);
        float[] exitLoss = ConsistentEeTrainer.exitLosses(trainOut, labels, targets);
        int layers = from.heads().layers;
        MemorizedLayer.Distribution dist = MemorizedLayer.distribution(memorized, layers, 5);
        progress.log(String.format(Locale.ROOT, "exit outputs and losses of %d training samples: %.1f s", train.samples,
                (System.nanoTime() - c0) / 1e9));
        progress.log(dist.table().stripTrailing());

        LayerwiseOutputs validOut = LayerwiseOutputs.fromPooled(from.heads(), valid.byLayer(), valid.samples);
        ExitOutputs validExits = validOut.toExitOutputs(Evaluation.goldOf(regression, splits.validation()));
        ConsistentEeTrainer.Validation validation = new ConsistentEeTrainer.Validation(valid.byLayer(), valid.samples,
                validExits, PolicyCalibration.metricFor(splits.task()));
        PolicyNetworks policies = PolicyNetworks.create(from.heads().hidden, layers, PolicyNetworks.DEFAULT_WIDTH, o.seed());
        ConsistentEeTrainer.Result r = ConsistentEeTrainer.trainPolicies(policies, train, exitLoss, memorized, validation, o, progress);

        ObjectMapper json = new ObjectMapper();
        ObjectNode opts = from.training() != null && from.training().options() != null
                ? from.training().options().deepCopy() : json.createObjectNode();
        opts.put("max_length", maxLength);
        opts.put("alpha", o.alpha());
        opts.put("reward", o.reward().optionName);
        opts.put("estimator", o.estimator().optionName);
        opts.put("samples_per_instance", o.samples());
        opts.put("stages", stages);
        opts.put("from", fromDir.toAbsolutePath().normalize().toString());
        opts.put("from_mode", from.training() != null ? from.training().mode() : "unknown");
        opts.put("policy_batch_size", o.batchSize());
        opts.put("best_epoch", r.bestEpoch());
        opts.put("selection", "mean validation metric over layer speed-ups 1.." + o.maxSpeedup() + " (tau sweep frontier)");
        opts.put("selection_score", r.best().score());
        opts.put("train_samples", train.samples);
        opts.put("mean_memorized_layer", dist.mean());
        ArrayNode ep = opts.putArray("policy_epochs");
        for (ConsistentEeTrainer.EpochReport e : r.epochs()) {
            ep.addObject().put("epoch", e.epoch()).put("mean_reward", e.meanReward()).put("expected_exit_layer", e.expectedExitLayer())
                    .put("score", e.score()).put("metric_at_tau_0.5", e.metricAtHalf()).put("speedup_at_tau_0.5", e.speedupAtHalf())
                    .put("seconds", e.seconds());
        }
        double[] perExit = regression ? validOut.msePerExit(TaskSplits.scores(splits.validation()))
                : validOut.accuracyPerExit(TaskSplits.labels(splits.validation()));
        TrainingRecord record = new TrainingRecord("consistentee", o.epochs(),
                Double.parseDouble(Float.toString(o.policyLr())), o.seed(), (System.nanoTime() - t0) / 1e9,
                regression ? "mse" : "accuracy", perExit, opts);
        if (stages.equals("all")) return stageThree(from, bb, policies, memorized, trainIn, labels, targets, validIn, splits,
                regression, o, joint, record, opts, out, progress, t0);
        MultiExitModel m = new MultiExitModel(from.backbone(), from.task(), from.heads(), from.fineTunedBackbone(), record, null);
        m.setPolicies(policies, memorized);
        m.save(out);

        // pre-fill the evaluation caches from the features (the same numbers a full-depth pass gives)
        long policyFp = PolicyOutputs.fingerprint(policies);
        Path cache = out.resolve("cache");
        TrainedModel.write(cache.resolve("outputs-validation.bin"), FeatureCache.fingerprint(validIn), validOut);
        TrainedModel.write(cache.resolve("outputs-dev.bin"), FeatureCache.fingerprint(devIn),
                LayerwiseOutputs.fromPooled(from.heads(), dev.byLayer(), dev.samples));
        TrainedModel.writePolicy(cache.resolve("policy-validation.bin"), FeatureCache.fingerprint(validIn) ^ policyFp,
                policies.exitProbabilities(valid.byLayer(), valid.samples), valid.samples, layers);
        TrainedModel.writePolicy(cache.resolve("policy-dev.bin"), FeatureCache.fingerprint(devIn) ^ policyFp,
                policies.exitProbabilities(dev.byLayer(), dev.samples), dev.samples, layers);
        return m;
    }

    /**
     * Stage 3 after stage 2: backbone (the --from model's, or the published one it was frozen on), exits and policies
     * train together with the consistent loss; the memorized layers stay those of the --from model's exits.
     */
    private static MultiExitModel stageThree(MultiExitModel from, PretrainedModel bb, PolicyNetworks policies, int[] memorized,
                                             List<Encoding> trainIn, int[] labels, float[] targets, List<Encoding> validIn,
                                             TaskSplits splits, boolean regression, ConsistentEeTrainer.Options o,
                                             ConsistentEeJointTrainer.Options joint, TrainingRecord stage2, ObjectNode opts,
                                             Path out, TrainingProgress progress, long t0) throws IOException {
        // the weights are trained in place: a private copy, never the registry's published tensors
        dev.offramp.weights.BertWeights weights = copyOf(from.fineTunedBackbone() != null ? from.fineTunedBackbone() : bb.weights());
        dev.offramp.exits.ExitHeads heads = from.heads().copy();
        ConsistentEeJointTrainer.Result r = ConsistentEeJointTrainer.train(weights, heads, policies, memorized, trainIn,
                labels, targets, validIn, Evaluation.goldOf(regression, splits.validation()),
                PolicyCalibration.metricFor(splits.task()), joint, o, out.resolve("checkpoint"), progress);
        opts.put("stage3_epochs", joint.epochs());
        opts.put("stage3_backbone_lr", Double.parseDouble(Float.toString(joint.backboneLr())));
        opts.put("stage3_heads_lr", Double.parseDouble(Float.toString(joint.headsLr())));
        opts.put("stage3_best_epoch", r.bestEpoch());
        ArrayNode ep = opts.putArray("stage3_epoch_reports");
        for (ConsistentEeJointTrainer.EpochReport e : r.epochs()) {
            ep.addObject().put("epoch", e.epoch()).put("consistent_ce", e.classifierLoss()).put("mean_reward", e.meanReward())
                    .put("score", e.score()).put("metric_at_tau_0.5", e.metricAtHalf()).put("speedup_at_tau_0.5", e.speedupAtHalf())
                    .put("seconds", e.seconds());
        }
        // a resumed run reports only the epochs it trained: find the best one by number
        opts.put("selection_score", r.epochs().stream().filter(e -> e.epoch() == r.bestEpoch()).findFirst().orElseThrow().score());
        double[] perExit = r.bestPerExit().clone();
        if (regression) for (int i = 0; i < perExit.length; i++) perExit[i] = -perExit[i];  // back to MSE
        TrainingRecord record = new TrainingRecord("consistentee", stage2.epochs(), stage2.learningRate(), stage2.seed(),
                (System.nanoTime() - t0) / 1e9, stage2.metric(), perExit, opts);
        MultiExitModel m = new MultiExitModel(from.backbone(), from.task(), heads, weights, record, null);
        m.setPolicies(policies, memorized);
        m.save(out);
        return m;
    }

    private static dev.offramp.weights.BertWeights copyOf(dev.offramp.weights.BertWeights w) {
        dev.offramp.weights.BertWeights.Layer[] ls = new dev.offramp.weights.BertWeights.Layer[w.layers.length];
        for (int i = 0; i < ls.length; i++) {
            var a = w.layers[i];
            ls[i] = new dev.offramp.weights.BertWeights.Layer(a.wq.clone(), a.bq.clone(), a.wk.clone(), a.bk.clone(), a.wv.clone(),
                    a.bv.clone(), a.wo.clone(), a.bo.clone(), a.ln1Gamma.clone(), a.ln1Beta.clone(), a.wIn.clone(), a.bIn.clone(),
                    a.wOut.clone(), a.bOut.clone(), a.ln2Gamma.clone(), a.ln2Beta.clone());
        }
        return new dev.offramp.weights.BertWeights(w.config, w.wordEmbeddings.clone(), w.positionEmbeddings.clone(),
                w.tokenTypeEmbeddings.clone(), w.embLnGamma.clone(), w.embLnBeta.clone(), ls,
                w.poolerW == null ? null : w.poolerW.clone(), w.poolerB == null ? null : w.poolerB.clone());
    }

    private static FeatureCache features(BertEncoder encoder, String backboneKey, String split, MultiExitModel from,
                                         List<Encoding> inputs, int maxLength, Path dir, TrainingProgress progress)
            throws IOException {
        String key = FeatureCache.key(backboneKey, split, from.layout().pooling(), maxLength, inputs.size());
        return FeatureCache.computeOrLoad(encoder, inputs, from.layout().pooling(), 64, 64 * 128,
                FeatureCache.fileFor(dir, key), key, progress);
    }
}
