package dev.offramp.training;

import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.ExitLayout;
import dev.offramp.exits.ExitTask;
import dev.offramp.exits.LayerwiseOutputs;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.Pooling;
import dev.offramp.exits.TinyBert;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;
import dev.offramp.weights.BertWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DeeBERT's two-stage training on a tiny random BERT (JointTrainerTest's marker task): stage 1 trains only the last exit with the backbone, stage 2
 * trains the early exits on the frozen result without touching the last exit or the backbone, and a rerun after
 * stage 1 starts at stage 2.
 */
class TwoStageTrainerTest {
    private static final ExitTask TASK = ExitTask.classification("marker", List.of("no", "yes"));
    private static final ExitLayout PER_EXIT = new ExitLayout(Pooling.MEAN, false, false);

    private static float[] slice(ExitHeads h, String tensor) {
        ExitHeads.Tensor t = h.tensor(tensor);
        return Arrays.copyOfRange(h.params(), t.offset(), t.offset() + t.size());
    }

    private static final JointTrainer.Options STAGE1 = new JointTrainer.Options(5, 2e-3f, 5e-3f, 16, 42, 0.01f, 0f, 0f, 0.1f, 1.0, 0);
    private static final FrozenTrainer.Options STAGE2 = FrozenTrainer.Options.defaults().withEpochs(6).withLearningRate(5e-3f)
            .withBatchSize(16).withDropout(0f);

    /** Stage 1 alone (JointTrainer with exits {L}): the early exits' heads are never updated. */
    @Test
    void stageOneTrainsOnlyTheLastExit() throws Exception {
        BertConfig c = TinyBert.config();
        int l = c.layers();
        List<Encoding> train = JointTrainerTest.data(c, 160, 1), valid = JointTrainerTest.data(c, 60, 2);
        int[] y = train.stream().mapToInt(JointTrainerTest::label).toArray();
        int[] yv = valid.stream().mapToInt(JointTrainerTest::label).toArray();
        ExitHeads init = ExitHeads.create(c.hidden(), l, 2, PER_EXIT, TinyBert.weights(c, 3, false), STAGE1.seed());
        MultiExitModel m = JointTrainer.train(TinyBert.weights(c, 3, false), "tiny", TASK, PER_EXIT, train, y, null, valid,
                yv, null, 16, STAGE1.withExits(new int[]{l}), null, new TrainingProgress() {});
        for (int e = 1; e < l; e++) {
            for (String part : List.of("pooler.dense.weight", "classifier.weight")) {
                String name = "exits." + e + "." + part;
                assertArrayEquals(slice(init, name), slice(m.heads(), name), name + " must not train in stage 1");
            }
        }
        assertFalse(Arrays.equals(slice(init, "exits." + l + ".classifier.weight"), slice(m.heads(), "exits." + l + ".classifier.weight")));
        assertEquals("joint-exits", m.training().mode());
        assertEquals(l, m.training().options().path("exits").get(0).asInt());
        assertTrue(m.training().devMetrics()[l - 1] >= 0.8, "last exit " + Arrays.toString(m.training().devMetrics()));
    }

    @Test
    void stageTwoKeepsTheLastExitAndBackboneAndTeachesTheEarlyExits(@TempDir Path dir) throws Exception {
        BertConfig c = TinyBert.config();
        int l = c.layers();
        List<Encoding> train = JointTrainerTest.data(c, 160, 1), valid = JointTrainerTest.data(c, 60, 2);
        int[] y = train.stream().mapToInt(JointTrainerTest::label).toArray();
        int[] yv = valid.stream().mapToInt(JointTrainerTest::label).toArray();
        List<String> log = new ArrayList<>();
        TrainingProgress progress = new TrainingProgress() {
            @Override public void log(String line) { log.add(line); }
        };
        Path ck = dir.resolve("ck"), cache = dir.resolve("features");
        MultiExitModel m = TwoStageTrainer.train(TinyBert.weights(c, 3, false), "tiny", TASK, PER_EXIT, train, y, null,
                valid, yv, null, 16, STAGE1, STAGE2, ck, cache, progress);

        MultiExitModel first = MultiExitModel.load(ck.resolve(TwoStageTrainer.STAGE1_DIR));
        // the last exit and the backbone are stage 1's, bit for bit
        for (String part : List.of("pooler.dense.weight", "pooler.dense.bias", "classifier.weight", "classifier.bias")) {
            String name = "exits." + l + "." + part;
            assertArrayEquals(slice(first.heads(), name), slice(m.heads(), name), name);
        }
        assertArrayEquals(first.fineTunedBackbone().layers[0].wIn, m.fineTunedBackbone().layers[0].wIn);
        assertArrayEquals(first.fineTunedBackbone().wordEmbeddings, m.fineTunedBackbone().wordEmbeddings);
        // the early exits learned in stage 2: each beats what it was after stage 1 (untrained) on validation
        LayerwiseOutputs before = LayerwiseOutputs.compute(first.encoder(null), first, valid, 16, 400);
        LayerwiseOutputs after = LayerwiseOutputs.compute(m.encoder(null), m, valid, 16, 400);
        double[] accBefore = before.accuracyPerExit(yv), accAfter = after.accuracyPerExit(yv);
        assertEquals(accBefore[l - 1], accAfter[l - 1], 0.0, "the last exit's predictions are stage 1's");
        assertTrue(accAfter[l - 2] >= 0.8 && accAfter[l - 2] > accBefore[l - 2] + 0.15,
                "exit " + (l - 1) + " after stage 2: " + Arrays.toString(accAfter) + ", before: " + Arrays.toString(accBefore));
        // the record: every exit on validation, as the model itself scores them
        assertEquals("two-stage", m.training().mode());
        assertArrayEquals(accAfter, m.training().devMetrics(), 1e-9);
        assertEquals(STAGE2.epochs(), m.training().options().path("stage2_epochs").asInt());
        assertTrue(Files.list(cache).findAny().isPresent(), "stage 2's features are cached");

        // a rerun finds stage 1 done: whatever backbone it is given, it returns stage 1's and trains stage 2 again
        List<String> log2 = new ArrayList<>();
        MultiExitModel again = TwoStageTrainer.train(TinyBert.weights(c, 9, false), "tiny", TASK, PER_EXIT, train, y, null,
                valid, yv, null, 16, STAGE1, STAGE2, ck, cache, new TrainingProgress() {
                    @Override public void log(String line) { log2.add(line); }
                });
        assertTrue(log2.get(0).startsWith("stage 1 already done"), log2.toString());
        assertTrue(log2.stream().noneMatch(s -> s.contains("trained: exits")), "stage 1 must not run again: " + log2);
        assertArrayEquals(m.fineTunedBackbone().layers[1].wIn, again.fineTunedBackbone().layers[1].wIn);
        assertArrayEquals(m.heads().params(), again.heads().params());
    }

    @Test
    void rejectsASharedPooler() {
        BertConfig c = TinyBert.config();
        List<Encoding> train = JointTrainerTest.data(c, 8, 1);
        int[] y = train.stream().mapToInt(JointTrainerTest::label).toArray();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TwoStageTrainer.train(
                TinyBert.weights(c, 3, false), "tiny", TASK, new ExitLayout(Pooling.CLS, false, true), train, y, null,
                train, y, null, 16, STAGE1, STAGE2, null, null, new TrainingProgress() {}));
        assertTrue(e.getMessage().contains("pooler per exit"), e.getMessage());
    }
}
