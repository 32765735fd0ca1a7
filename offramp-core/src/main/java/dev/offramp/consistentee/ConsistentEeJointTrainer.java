package dev.offramp.consistentee;

import dev.offramp.data.Batching;
import dev.offramp.eval.calibration.ExitOutputs;
import dev.offramp.eval.calibration.Metric;
import dev.offramp.eval.calibration.Sweep;
import dev.offramp.eval.calibration.TradeoffCurve;
import dev.offramp.eval.calibration.TradeoffPoint;
import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.LayerwiseOutputs;
import dev.offramp.exits.LayerwisePass;
import dev.offramp.exits.PolicyNetworks;
import dev.offramp.exits.Pooling;
import dev.offramp.model.BertEncoder;
import dev.offramp.model.EncoderTrainer;
import dev.offramp.model.ParameterSet;
import dev.offramp.model.TrainingStep;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.training.AdamW;
import dev.offramp.training.GradientClipping;
import dev.offramp.training.JointCheckpoint;
import dev.offramp.training.LearningRateSchedule;
import dev.offramp.training.TrainingProgress;
import dev.offramp.weights.BertWeights;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * ConsistentEE's stage 3 (methods.md §4): backbone, exits and policies all train, the exits with the consistent
 * classifier loss (each instance trains only the exit it leaves at: CE_e at the sampled exit for REINFORCE,
 * Σ_t sg[P(t)]·CE_t for the exact estimator) and the policies with the policy loss of stage 2 on this step's CE_t.
 * The policies read the pooled vectors detached from the backbone (no gradient flows from the policy loss into the
 * encoder). Wired like {@link dev.offramp.training.JointTrainer}: {@link EncoderTrainer} forward, heads per layer,
 * encoder backward from the per-layer hidden-state gradients, global-norm clipping over encoder and heads, AdamW
 * per group (encoder, heads, policies) with linear warm-up and decay.
 *
 * <p>After each epoch the validation split runs through the updated encoder once (exit outputs and π together),
 * the τ sweep is scored as in stage 2 ({@link ConsistentEeTrainer#selectionScore}), and the best epoch's weights,
 * heads and policies are what the trainer leaves in place. After each epoch a checkpoint (every tensor with its
 * optimizer state) is written, so an interrupted run resumes at the next epoch; the random streams (batch order is
 * seeded per epoch, dropout and REINFORCE's actions are not) restart, so a resumed run is equivalent, not
 * bit-identical. The memorized layers stay those of stage 1.
 */
public final class ConsistentEeJointTrainer {
    private ConsistentEeJointTrainer() {}

    /**
     * @param backboneLr  peak learning rate of the encoder (reference: 2e-5 … 3e-5 for BERT-base)
     * @param headsLr     peak learning rate of the exits
     * @param dropout     hidden and attention dropout of the encoder
     * @param headDropout dropout on the exits' pooler output
     */
    public record Options(int epochs, float backboneLr, float headsLr, int batchSize, float weightDecay, float dropout,
                          float headDropout, float warmup, double clipNorm) {
        public static Options defaults() {
            return new Options(1, 2e-5f, 1e-4f, 32, 0.01f, 0.1f, 0.1f, 0.06f, 1.0);
        }
    }

    /** One epoch: mean classifier loss, mean policy objective, validation selection score and the τ = 0.5 point. */
    public record EpochReport(int epoch, double classifierLoss, double meanReward, double score, double metricAtHalf,
                              double speedupAtHalf, double seconds) {}

    /** @param bestPerExit the best epoch's validation metric of each exit alone (accuracy, or −MSE for regression) */
    public record Result(List<EpochReport> epochs, int bestEpoch, double[] bestPerExit, double seconds) {}

    /**
     * Trains weights, heads and policies in place; they end with the best epoch's values.
     *
     * @param memorized (N) m(x) of each training input (from stage 1's model)
     * @param labels    (N) classes, or null for regression (then targets)
     * @param validGold validation classes as floats or scores, for the τ sweep
     * @param checkpointDir where the end-of-epoch resume point goes ({@link #CHECKPOINT_FILE}); an interrupted run
     *                      given the same folder resumes after its last completed epoch; null: none
     */
    public static Result train(BertWeights weights, ExitHeads heads, PolicyNetworks policies, int[] memorized,
                               List<Encoding> trainIn, int[] labels, float[] targets,
                               List<Encoding> validIn, float[] validGold, Metric metric,
                               Options jo, ConsistentEeTrainer.Options po, Path checkpointDir,
                               TrainingProgress progress) {
        long t0 = System.nanoTime();
        int l = weights.config.layers(), h = weights.config.hidden(), k = heads.outputs, bMax = jo.batchSize();
        boolean regression = labels == null;
        Pooling pooling = heads.layout.pooling();
        EncoderTrainer encoder = new EncoderTrainer(weights, new EncoderTrainer.Options(jo.dropout(), jo.dropout(), po.seed(), false, 0));
        ParameterSet encParams = new ParameterSet();
        encoder.addParameters(encParams);
        ParameterSet headParams = new ParameterSet().add("exits", heads.params(), heads.grads(), false);
        ParameterSet polParams = new ParameterSet().add("policies", policies.params(), policies.grads(), false);
        ParameterSet clipped = new ParameterSet();
        for (ParameterSet.Entry e : encParams.entries()) clipped.add(e.name(), e.param(), e.grad(), e.decay());
        clipped.add("exits", heads.params(), heads.grads(), false);
        AdamW.Options ao = new AdamW.Options(0.9, 0.999, 1e-8, jo.weightDecay());
        AdamW encAdam = new AdamW(encParams, ao), headAdam = new AdamW(headParams, ao),
                polAdam = new AdamW(polParams, new AdamW.Options(0.9, 0.999, 1e-8, 0));

        int n = trainIn.size();
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) lengths[i] = trainIn.get(i).length();
        int stepsPerEpoch = (n + bMax - 1) / bMax, total = stepsPerEpoch * jo.epochs(), warm = Math.round(jo.warmup() * total);
        LearningRateSchedule encLr = new LearningRateSchedule(jo.backboneLr(), warm, total),
                headLr = new LearningRateSchedule(jo.headsLr(), warm, total),
                polLr = new LearningRateSchedule(po.policyLr(), warm, total);

        ExitHeads.Activations[] hAct = new ExitHeads.Activations[l];
        PolicyNetworks.Activations[] pAct = new PolicyNetworks.Activations[l - 1];
        float[][] pooled = new float[l][bMax * h];  // (L)(B, H)
        for (int i = 0; i < l; i++) hAct[i] = new ExitHeads.Activations(heads, bMax);
        for (int i = 0; i < l - 1; i++) pAct[i] = new PolicyNetworks.Activations(policies, bMax);
        float[] pi = new float[bMax * l], dLogit = new float[bMax], dLogits = new float[bMax * k], dPooled = new float[bMax * h];
        double[] ce = new double[bMax * l], rew = new double[bMax * l], dz = new double[bMax * l], w = new double[bMax * l];
        float[][] dHidden = new float[l + 1][];
        int[] offsets = new int[bMax], lens = new int[bMax], bLabels = new int[bMax], bMem = new int[bMax];
        float[] bTargets = new float[bMax];
        SplittableRandom headRng = new SplittableRandom(po.seed() ^ 0x9E3779B97F4A7C15L), actions = new SplittableRandom(po.seed() ^ 0x3C6EF372FE94F82BL);
        ConsistentEeTrainer.StepScratch scratch = new ConsistentEeTrainer.StepScratch(po.samples(), l);
        BertEncoder inference = new BertEncoder(weights);

        List<EpochReport> reports = new ArrayList<>();
        double bestScore = Double.NEGATIVE_INFINITY;
        int bestEpoch = 0, step = 0, startEpoch = 1;
        List<JointCheckpoint.Group> groups = List.of(new JointCheckpoint.Group(encParams, encAdam),
                new JointCheckpoint.Group(headParams, headAdam), new JointCheckpoint.Group(polParams, polAdam));
        JointCheckpoint ck = checkpointDir == null ? null : loadCheckpoint(checkpointDir, groups);
        if (ck != null) {
            startEpoch = ck.epoch() + 1;
            step = ck.step();
            inference.repack();  // the restored weights, not the ones the encoder packed at construction
            progress.log(String.format(Locale.ROOT, "resuming stage 3 after epoch %d (step %d) from %s", ck.epoch(), step, checkpointDir));
        }
        float[] bestHeads = null, bestPolicies = null;
        BertWeights bestWeights = null;
        double[] bestPerExit = null;
        List<Encoding> batch = new ArrayList<>(bMax);
        for (int epoch = startEpoch; epoch <= jo.epochs(); epoch++) {
            long e0 = System.nanoTime();
            List<int[]> batches = Batching.lengthBucketed(lengths, bMax, po.seed(), epoch);
            progress.stage("consistentee epoch " + epoch + "/" + jo.epochs(), batches.size(), "batches");
            double ceSum = 0, rewardSum = 0;
            for (int bi = 0; bi < batches.size(); bi++, step++) {
                int[] idx = batches.get(bi);
                batch.clear();
                for (int j = 0; j < idx.length; j++) {
                    batch.add(trainIn.get(idx[j]));
                    bMem[j] = memorized[idx[j]];
                    if (regression) bTargets[j] = targets[idx[j]];
                    else bLabels[j] = labels[idx[j]];
                }
                TrainingStep s = encoder.forward(batch, true);
                int b = s.size(), nt = s.tokens();
                for (int j = 0; j < b; j++) { offsets[j] = s.offset(j); lens[j] = s.length(j); }
                // exits and policies on every layer's pooled vector; per-sample losses CE_t (B, L)
                for (int li = 1; li <= l; li++) {
                    pooling.pool(s.layerOutput(li), offsets, lens, b, h, pooled[li - 1], 0);
                    heads.forward(hAct[li - 1], li, pooled[li - 1], 0, b, jo.headDropout(), headRng);
                    float[] probs = hAct[li - 1].probs();
                    for (int j = 0; j < b; j++) {
                        double v;
                        if (regression) { double d = probs[j] - bTargets[j]; v = d * d; }
                        else v = -Math.log(Math.max(probs[j * k + bLabels[j]], 1e-30f));
                        ce[j * l + li - 1] = v;
                    }
                    if (li < l) {
                        policies.forward(pAct[li - 1], li, pooled[li - 1], 0, b);  // detached input
                        for (int j = 0; j < b; j++) pi[j * l + li - 1] = pAct[li - 1].probs()[j];
                    }
                }
                for (int j = 0; j < b; j++) {
                    for (int t = 1; t <= l; t++) {
                        rew[j * l + t - 1] = ConsistentEeTrainer.reward(ce[j * l + t - 1], t, bMem[j], l, po.alpha(), po.reward());
                    }
                }
                rewardSum += ConsistentEeTrainer.policyStep(pi, rew, b, l, po, actions, dz, w, scratch);
                // policies: backward of the policy loss
                for (int li = 1; li < l; li++) {
                    for (int j = 0; j < b; j++) dLogit[j] = (float) dz[j * l + li - 1];
                    policies.backward(pAct[li - 1], pooled[li - 1], 0, dLogit);
                }
                // exits and encoder: the consistent loss (1/B) Σ_j Σ_t w[j, t]·CE_t(j)
                double batchCe = 0;
                for (int li = 1; li <= l; li++) {
                    float[] probs = hAct[li - 1].probs();
                    boolean any = false;
                    for (int j = 0; j < b; j++) {
                        double wt = w[j * l + li - 1];
                        batchCe += wt * ce[j * l + li - 1];
                        float sc = (float) (wt / b);
                        if (wt != 0) any = true;
                        if (regression) dLogits[j] = sc * 2f * (probs[j] - bTargets[j]);
                        else for (int c = 0; c < k; c++) dLogits[j * k + c] = sc * (probs[j * k + c] - (c == bLabels[j] ? 1f : 0f));
                    }
                    if (dHidden[li] == null || dHidden[li].length < nt * h) dHidden[li] = new float[Math.max(nt * h, 1024 * h)];
                    else Arrays.fill(dHidden[li], 0, nt * h, 0f);
                    if (!any) continue;  // no sample of this batch trains exit li
                    Arrays.fill(dPooled, 0, b * h, 0f);
                    heads.backward(hAct[li - 1], pooled[li - 1], 0, dLogits, dPooled, 0);
                    pooling.unpoolBackward(dPooled, 0, offsets, lens, b, h, dHidden[li]);
                }
                encoder.backward(s, dHidden);
                GradientClipping.clipGlobalNorm(clipped, jo.clipNorm());
                encAdam.step(encLr.at(step));
                headAdam.step(headLr.at(step));
                polAdam.step(polLr.at(step));
                clipped.zeroGradients();
                polParams.zeroGradients();
                ceSum += batchCe / b;
                progress.advance(bi + 1);
                if ((bi + 1) % 20 == 0) {
                    progress.status(String.format(Locale.ROOT, "consistent CE %.4f, reward %.4f", ceSum / (bi + 1),
                            rewardSum / ((bi + 1.0) * bMax)));
                }
            }
            progress.endStage();
            inference.repack();
            ExitOutputs validOut = validationOutputs(inference, heads, policies, validIn, validGold, progress);
            Sweep sweep = new Sweep(validOut, metric);
            TradeoffCurve curve = sweep.consistentEe(sweep.defaultConsistentEeGrid());
            double score = ConsistentEeTrainer.selectionScore(curve, po.maxSpeedup());
            double mHalf = Double.NaN, sHalf = Double.NaN;
            for (TradeoffPoint p : curve.points()) {
                if (Math.abs(p.knobValue() - 0.5) < 1e-9) { mHalf = p.metric(); sHalf = p.layerSpeedup(); }
            }
            EpochReport r = new EpochReport(epoch, ceSum / batches.size(), rewardSum / n, score, mHalf, sHalf, (System.nanoTime() - e0) / 1e9);
            reports.add(r);
            progress.log(String.format(Locale.ROOT, "epoch %d: consistent CE %.4f, mean reward %.4f, %.0f s; validation score %.4f,"
                    + " tau=0.5: metric %.4f at %.2fx", epoch, r.classifierLoss(), r.meanReward(), r.seconds(), score, mHalf, sHalf));
            if (score > bestScore || bestHeads == null) {
                bestScore = score;
                bestEpoch = epoch;
                bestHeads = heads.params().clone();
                bestPolicies = policies.params().clone();
                bestWeights = jo.epochs() == 1 ? null : weights.deepCopy();
                bestPerExit = perExit(validOut);
            }
            if (checkpointDir != null) saveCheckpoint(checkpointDir, epoch, step, groups);
        }
        if (bestHeads == null) {
            throw new IllegalStateException("no stage-3 epoch left to train (the checkpoint in " + checkpointDir
                    + " is already at epoch " + jo.epochs() + "); delete it to train again");
        }
        System.arraycopy(bestHeads, 0, heads.params(), 0, bestHeads.length);
        System.arraycopy(bestPolicies, 0, policies.params(), 0, bestPolicies.length);
        if (bestWeights != null && bestEpoch != jo.epochs()) restore(weights, bestWeights);
        return new Result(reports, bestEpoch, bestPerExit, (System.nanoTime() - t0) / 1e9);
    }

    /** Stage 3's checkpoint file: encoder, exits and policies with their optimizers' state. */
    public static final String CHECKPOINT_FILE = "consistentee-stage3-checkpoint.bin";

    private static JointCheckpoint loadCheckpoint(Path dir, List<JointCheckpoint.Group> groups) {
        try {
            return JointCheckpoint.loadIfPresent(dir, CHECKPOINT_FILE, groups);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void saveCheckpoint(Path dir, int epoch, int step, List<JointCheckpoint.Group> groups) {
        try {
            JointCheckpoint.save(dir, CHECKPOINT_FILE, epoch, step, groups);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Each exit's accuracy, or −MSE for regression (K = 1). */
    static double[] perExit(ExitOutputs o) {
        if (!o.regression()) return o.exitAccuracies();
        double[] m = new double[o.layers()];
        for (int i = 1; i <= o.layers(); i++) {
            double s = 0;
            for (int n = 0; n < o.samples(); n++) { double d = o.prediction(n, i) - o.gold()[n]; s += d * d; }
            m[i - 1] = -s / o.samples();
        }
        return m;
    }

    /** Exit outputs with π attached, on the validation inputs, in one full-depth pass. */
    static ExitOutputs validationOutputs(BertEncoder encoder, ExitHeads heads, PolicyNetworks policies,
                                         List<Encoding> validIn, float[] gold, TrainingProgress progress) {
        int n = validIn.size(), l = heads.layers, k = heads.outputs;
        float[] values = new float[n * l * k], pi = new float[n * l];
        ExitHeads.Activations ha = new ExitHeads.Activations(heads, 64);
        PolicyNetworks.Activations pa = new PolicyNetworks.Activations(policies, 64);
        progress.stage("validation", n, "inputs");
        LayerwisePass.run(encoder, validIn, heads.layout.pooling(), 64, 64 * 128, (exit, samples, pooled, b) -> {
            heads.forward(ha, exit, pooled, 0, b, 0f, null);
            for (int s = 0; s < b; s++) System.arraycopy(ha.probs(), s * k, values, (samples[s] * l + exit - 1) * k, k);
            if (exit < l) {
                policies.forward(pa, exit, pooled, 0, b);
                for (int s = 0; s < b; s++) pi[samples[s] * l + exit - 1] = pa.probs()[s];
            } else {
                for (int s = 0; s < b; s++) pi[samples[s] * l + l - 1] = 1f;
            }
        }, progress::advance);
        progress.endStage();
        return new LayerwiseOutputs(n, l, k, values).toExitOutputs(gold).withPolicy(pi);
    }


    /** Copies every tensor of src into dst in place (the arrays the trainer and optimizers hold). */
    private static void restore(BertWeights dst, BertWeights src) {
        for (int i = 0; i < dst.layers.length; i++) {
            BertWeights.Layer a = dst.layers[i], b = src.layers[i];
            float[][] da = {a.wq, a.bq, a.wk, a.bk, a.wv, a.bv, a.wo, a.bo, a.ln1Gamma, a.ln1Beta, a.wIn, a.bIn, a.wOut, a.bOut, a.ln2Gamma, a.ln2Beta};
            float[][] sb = {b.wq, b.bq, b.wk, b.bk, b.wv, b.bv, b.wo, b.bo, b.ln1Gamma, b.ln1Beta, b.wIn, b.bIn, b.wOut, b.bOut, b.ln2Gamma, b.ln2Beta};
            for (int t = 0; t < da.length; t++) System.arraycopy(sb[t], 0, da[t], 0, da[t].length);
        }
        System.arraycopy(src.wordEmbeddings, 0, dst.wordEmbeddings, 0, dst.wordEmbeddings.length);
        System.arraycopy(src.positionEmbeddings, 0, dst.positionEmbeddings, 0, dst.positionEmbeddings.length);
        System.arraycopy(src.tokenTypeEmbeddings, 0, dst.tokenTypeEmbeddings, 0, dst.tokenTypeEmbeddings.length);
        System.arraycopy(src.embLnGamma, 0, dst.embLnGamma, 0, dst.embLnGamma.length);
        System.arraycopy(src.embLnBeta, 0, dst.embLnBeta, 0, dst.embLnBeta.length);
        if (dst.poolerW != null) {
            System.arraycopy(src.poolerW, 0, dst.poolerW, 0, dst.poolerW.length);
            System.arraycopy(src.poolerB, 0, dst.poolerB, 0, dst.poolerB.length);
        }
    }
}
