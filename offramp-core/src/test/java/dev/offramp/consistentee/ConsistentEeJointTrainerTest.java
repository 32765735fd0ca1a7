package dev.offramp.consistentee;

import dev.offramp.eval.calibration.Metric;
import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.ExitLayout;
import dev.offramp.exits.PolicyNetworks;
import dev.offramp.exits.PolicySource;
import dev.offramp.exits.TinyBert;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.training.TrainingProgress;
import dev.offramp.weights.BertConfig;
import dev.offramp.weights.BertWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Stage 3 on a tiny random BERT: runs end to end, changes backbone, exits and policies, and stays finite. */
class ConsistentEeJointTrainerTest {
    @Test
    void stageThreeUpdatesEverythingAndReportsAnEpoch() {
        BertConfig c = TinyBert.config();
        BertWeights w = TinyBert.weights(c, 1, true);
        int l = c.layers(), n = 24;
        ExitHeads heads = ExitHeads.create(c.hidden(), l, 2, ExitLayout.DEFAULT, w, 3);
        PolicyNetworks pol = PolicyNetworks.create(c.hidden(), l, 8, 4);
        List<Encoding> in = TinyBert.inputs(n, 10, c.vocabSize(), 5);
        int[] labels = new int[n], mem = new int[n];
        for (int i = 0; i < n; i++) { labels[i] = i % 2; mem[i] = 1 + i % l; }
        float[] gold = new float[8];
        for (int i = 0; i < gold.length; i++) gold[i] = labels[i];
        float[] wq = w.layers[0].wq.clone(), hp = heads.params().clone(), pp = pol.params().clone();
        for (ConsistentEeTrainer.Estimator est : ConsistentEeTrainer.Estimator.values()) {
            ConsistentEeTrainer.Options po = ConsistentEeTrainer.Options.defaults().withEstimator(est).withAlpha(0.05).withPolicyLr(1e-2f);
            ConsistentEeJointTrainer.Options jo = new ConsistentEeJointTrainer.Options(1, 1e-3f, 1e-3f, 8, 0.01f, 0.1f, 0.1f, 0f, 1.0);
            ConsistentEeJointTrainer.Result r = ConsistentEeJointTrainer.train(w, heads, pol, mem, in, labels, null,
                    in.subList(0, 8), gold, Metric.ACCURACY, jo, po, null, TrainingProgress.NONE);
            assertEquals(1, r.epochs().size());
            var e = r.epochs().get(0);
            assertTrue(Double.isFinite(e.classifierLoss()) && e.classifierLoss() > 0, est + " CE " + e.classifierLoss());
            assertTrue(Double.isFinite(e.meanReward()) && e.meanReward() < 0);
            assertTrue(e.score() >= 0 && e.score() <= 1);
        }
        assertFalse(java.util.Arrays.equals(wq, w.layers[0].wq), "backbone trained");
        assertFalse(java.util.Arrays.equals(hp, heads.params()), "exits trained");
        assertFalse(java.util.Arrays.equals(pp, pol.params()), "policies trained");
        for (float v : heads.params()) assertTrue(Float.isFinite(v));
        for (float v : pol.params()) assertTrue(Float.isFinite(v));
    }

    /**
     * A run interrupted at the start of its second epoch resumes from the checkpoint with the end-of-epoch-1 tensors
     * (restored into fresh copies, as a restarted process would have), trains only epoch 2, and then has nothing left.
     */
    @Test
    void stageThreeResumesFromItsCheckpoint(@TempDir Path dir) {
        BertConfig c = TinyBert.config();
        int l = c.layers(), n = 16;
        List<Encoding> in = TinyBert.inputs(n, 10, c.vocabSize(), 5);
        int[] labels = new int[n], mem = new int[n];
        for (int i = 0; i < n; i++) { labels[i] = i % 2; mem[i] = 1 + i % l; }
        float[] gold = new float[8];
        for (int i = 0; i < gold.length; i++) gold[i] = labels[i];
        ConsistentEeTrainer.Options po = ConsistentEeTrainer.Options.defaults().withAlpha(0.05).withPolicyLr(1e-2f);
        ConsistentEeJointTrainer.Options jo = new ConsistentEeJointTrainer.Options(2, 1e-3f, 1e-3f, 8, 0.01f, 0.1f, 0.1f, 0f, 1.0);
        Path ck = dir.resolve("ck");

        BertWeights w1 = TinyBert.weights(c, 1, true);
        ExitHeads h1 = ExitHeads.create(c.hidden(), l, 2, ExitLayout.DEFAULT, w1, 3);
        PolicyNetworks p1 = PolicyNetworks.create(c.hidden(), l, 8, 4);
        RuntimeException crash = assertThrows(RuntimeException.class, () -> ConsistentEeJointTrainer.train(w1, h1, p1, mem, in,
                labels, null, in.subList(0, 8), gold, Metric.ACCURACY, jo, po, ck, stopAt("consistentee epoch 2/2", null)));
        assertEquals("interrupted", crash.getMessage());
        assertTrue(Files.isRegularFile(ck.resolve(ConsistentEeJointTrainer.CHECKPOINT_FILE)));

        BertWeights w2 = TinyBert.weights(c, 1, true);
        ExitHeads h2 = ExitHeads.create(c.hidden(), l, 2, ExitLayout.DEFAULT, w2, 3);
        PolicyNetworks p2 = PolicyNetworks.create(c.hidden(), l, 8, 4);
        assertFalse(Arrays.equals(w1.layers[0].wq, w2.layers[0].wq), "epoch 1 changed the backbone");
        boolean[] checked = {false};
        ConsistentEeJointTrainer.Result r = ConsistentEeJointTrainer.train(w2, h2, p2, mem, in, labels, null, in.subList(0, 8),
                gold, Metric.ACCURACY, jo, po, ck, stopAt("consistentee epoch 2/2", () -> {
                    assertArrayEquals(w1.layers[0].wq, w2.layers[0].wq, "backbone restored");
                    assertArrayEquals(h1.params(), h2.params(), "exits restored");
                    assertArrayEquals(p1.params(), p2.params(), "policies restored");
                    checked[0] = true;
                }));
        assertTrue(checked[0]);
        assertEquals(1, r.epochs().size());
        assertEquals(2, r.epochs().get(0).epoch());
        IllegalStateException done = assertThrows(IllegalStateException.class, () -> ConsistentEeJointTrainer.train(
                TinyBert.weights(c, 1, true), ExitHeads.create(c.hidden(), l, 2, ExitLayout.DEFAULT, w2, 3),
                PolicyNetworks.create(c.hidden(), l, 8, 4), mem, in, labels, null, in.subList(0, 8), gold, Metric.ACCURACY,
                jo, po, ck, TrainingProgress.NONE));
        assertTrue(done.getMessage().contains("no stage-3 epoch left"), done.getMessage());
    }

    /** A progress sink that, when the named stage starts, runs {@code check} (if any) or throws to simulate a crash. */
    private static TrainingProgress stopAt(String stage, Runnable check) {
        return new TrainingProgress() {
            @Override
            public void stage(String name, long total, String unit) {
                if (!name.equals(stage)) return;
                if (check != null) check.run();
                else throw new RuntimeException("interrupted");
            }
        };
    }

    /** The runner with the policies' PolicySource leaves where the simulator, replaying cached π, says it does. */
    @Test
    void runnerWithPolicySourceMatchesTheSimulatorOnCachedPi() {
        BertConfig c = TinyBert.config();
        BertWeights w = TinyBert.weights(c, 2, false);
        dev.offramp.model.BertEncoder enc = new dev.offramp.model.BertEncoder(w);
        ExitHeads heads = ExitHeads.create(c.hidden(), c.layers(), 2, ExitLayout.DEFAULT, null, 3);
        TinyBert.randomise(heads, 0.3f, 3);
        var model = new dev.offramp.exits.MultiExitModel("tiny", dev.offramp.exits.ExitTask.classification("t", List.of("a", "b")),
                heads, null, null, null);
        PolicyNetworks pol = PolicyNetworks.create(c.hidden(), c.layers(), 8, 12);
        List<Encoding> in = TinyBert.inputs(17, 12, c.vocabSize(), 9);
        float[] pi = PolicyOutputs.compute(enc, pol, heads.layout.pooling(), in, 4, 40, null);
        var outs = dev.offramp.exits.LayerwiseOutputs.compute(enc, model, in, 4, 40).toExitOutputs(new float[17]).withPolicy(pi);
        for (float tau : new float[]{0.3f, 0.5f, 0.7f}) {
            var crit = new dev.offramp.criteria.ConsistentEeCriterion(tau);
            int[] simulated = dev.offramp.eval.calibration.Simulator.run(outs, crit, Metric.ACCURACY).exitLayers();
            var runner = new dev.offramp.inference.EarlyExitRunner(enc, model, crit, pol.source());
            var res = runner.run(in);
            int distinct = 0;
            for (int i = 0; i < in.size(); i++) {
                assertEquals(simulated[i], res[i].exitLayer(), "sample " + i + " at tau " + tau);
                if (res[i].exitLayer() != res[0].exitLayer()) distinct++;
            }
            if (tau == 0.5f) assertTrue(distinct > 0, "the policies should not send every sample to the same exit");
        }
    }
}
