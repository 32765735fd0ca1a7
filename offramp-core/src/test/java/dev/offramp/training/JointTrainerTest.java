package dev.offramp.training;

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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A short joint run on a tiny random BERT: the loss falls, the exits learn, and a checkpoint resumes. */
class JointTrainerTest {
    /** Label = whether token id 3 occurs: learnable only by looking past [CLS], through attention. */
    static int label(Encoding e) {
        for (int id : e.ids()) if (id == 3) return 1;
        return 0;
    }

    static List<Encoding> data(BertConfig c, int n, long seed) {
        List<Encoding> in = new ArrayList<>(TinyBert.inputs(n, 12, c.vocabSize(), seed));
        for (int i = 0; i < in.size(); i += 2) {  // plant the marker in half of them
            int[] ids = in.get(i).ids().clone();
            if (ids.length > 2) ids[1 + (i % (ids.length - 2))] = 3;
            in.set(i, new Encoding(ids, in.get(i).typeIds()));
        }
        return in;
    }

    @Test
    void lossFallsAndCheckpointResumes(@TempDir Path dir) throws Exception {
        BertConfig c = TinyBert.config();
        BertWeights w = TinyBert.weights(c, 3, false);
        List<Encoding> train = data(c, 160, 1), valid = data(c, 60, 2);
        int[] y = train.stream().mapToInt(JointTrainerTest::label).toArray();
        int[] yv = valid.stream().mapToInt(JointTrainerTest::label).toArray();
        List<String> log = new ArrayList<>();
        TrainingProgress progress = new TrainingProgress() {
            @Override public void log(String line) { log.add(line); }
        };
        JointTrainer.Options o = new JointTrainer.Options(6, 2e-3f, 5e-3f, 16, 42, 0.01f, 0f, 0f, 0.1f, 1.0, 0);
        ExitTask task = ExitTask.classification("marker", List.of("no", "yes"));
        MultiExitModel m = JointTrainer.train(w, "tiny", task, new ExitLayout(Pooling.MEAN, false, true), train, y,
                null, valid, yv, null, 16, o, dir.resolve("ck"), progress);

        List<Double> losses = log.stream().filter(s -> s.startsWith("epoch"))
                .map(s -> Double.parseDouble(s.replaceAll("epoch \\d+: loss ([0-9.]+),.*", "$1"))).toList();
        assertEquals(6, losses.size(), String.join("\n", log));
        assertTrue(losses.get(5) < 0.6 * losses.get(0), "loss should fall: " + losses);
        LayerwiseOutputs out = LayerwiseOutputs.compute(m.encoder(null), m, valid, 16, 400);
        double last = out.accuracyPerExit(yv)[c.layers() - 1];
        assertTrue(last >= 0.8, "last exit validation accuracy " + last);
        assertTrue(Files.isRegularFile(dir.resolve("ck").resolve(JointCheckpoint.FILE)));

        // resuming a finished run trains nothing more and returns the best epoch kept beside the checkpoint
        List<String> log2 = new ArrayList<>();
        TrainingProgress p2 = new TrainingProgress() {
            @Override public void log(String line) { log2.add(line); }
        };
        BertWeights fresh = TinyBert.weights(c, 3, false);
        MultiExitModel again = JointTrainer.train(fresh, "tiny", task, new ExitLayout(Pooling.MEAN, false, true), train,
                y, null, valid, yv, null, 16, o, dir.resolve("ck"), p2);
        assertTrue(log2.get(0).startsWith("resuming after epoch 6"), log2.toString());
        assertTrue(log2.get(1).startsWith("best epoch so far: " + m.training().options().path("best_epoch").asInt()), log2.toString());
        assertEquals(2, log2.size(), "no epoch trained: " + log2);
        assertArrayEquals(m.heads().params(), again.heads().params());
        assertArrayEquals(m.training().devMetrics(), again.training().devMetrics());
        // without the best-epoch folder there is nothing to return
        Files.walk(dir.resolve("ck").resolve(JointTrainer.BEST_DIR)).sorted(java.util.Comparator.reverseOrder())
                .forEach(f -> f.toFile().delete());
        IllegalStateException done = assertThrows(IllegalStateException.class, () ->
                JointTrainer.train(TinyBert.weights(c, 3, false), "tiny", task, new ExitLayout(Pooling.MEAN, false, true),
                        train, y, null, valid, yv, null, 16, o, dir.resolve("ck"), new TrainingProgress() {}));
        assertTrue(done.getMessage().contains("checkpoint"), done.getMessage());
        // the checkpoint restored the end-of-run backbone (w was trained in place) into the fresh weights
        assertArrayEquals(w.layers[1].wIn, fresh.layers[1].wIn);
        assertArrayEquals(w.wordEmbeddings, fresh.wordEmbeddings);
    }

    /**
     * Interrupted in the middle of epoch 2, a run with mid-epoch checkpoints resumes at the last checkpointed batch
     * and, without dropout, ends with exactly the weights of a run that was never interrupted.
     */
    @Test
    void midEpochCheckpointResumesToTheSameWeights(@TempDir Path dir) throws Exception {
        BertConfig c = TinyBert.config();
        List<Encoding> train = data(c, 96, 1), valid = data(c, 24, 2);
        int[] y = train.stream().mapToInt(JointTrainerTest::label).toArray();
        int[] yv = valid.stream().mapToInt(JointTrainerTest::label).toArray();
        ExitTask task = ExitTask.classification("marker", List.of("no", "yes"));
        ExitLayout layout = new ExitLayout(Pooling.MEAN, false, true);
        JointTrainer.Options o = new JointTrainer.Options(2, 2e-3f, 5e-3f, 8, 42, 0.01f, 0f, 0f, 0.1f, 1.0, 4);

        BertWeights straight = TinyBert.weights(c, 3, false);
        JointTrainer.train(straight, "tiny", task, layout, train, y, null, valid, yv, null, 16, o, dir.resolve("a"),
                new TrainingProgress() {});

        BertWeights interrupted = TinyBert.weights(c, 3, false);
        TrainingProgress crashInEpoch2 = new TrainingProgress() {
            String stage = "";
            @Override public void stage(String name, long total, String unit) { stage = name; }
            @Override public void advance(long done) {
                if (stage.startsWith("joint epoch 2") && done == 7) throw new RuntimeException("interrupted");
            }
        };
        RuntimeException crash = assertThrows(RuntimeException.class, () -> JointTrainer.train(interrupted, "tiny", task,
                layout, train, y, null, valid, yv, null, 16, o, dir.resolve("b"), crashInEpoch2));
        assertEquals("interrupted", crash.getMessage());

        List<String> log = new ArrayList<>();
        BertWeights resumed = TinyBert.weights(c, 3, false);
        JointTrainer.train(resumed, "tiny", task, layout, train, y, null, valid, yv, null, 16, o, dir.resolve("b"),
                new TrainingProgress() {
                    @Override public void log(String line) { log.add(line); }
                });
        assertTrue(log.get(0).startsWith("resuming in epoch 2 after batch 4 (step 16)"), log.toString());
        assertEquals(1, log.stream().filter(s -> s.startsWith("epoch")).count(), log.toString());
        // equal up to float summation order in multi-threaded gradient sums; a run that stopped 5 batches early is
        // far from it, so the bound tells a right resume from a wrong one
        assertTrue(maxAbsDiff(straight.layers[1].wIn, resumed.layers[1].wIn) < 1e-5);
        assertTrue(maxAbsDiff(straight.layers[0].wq, resumed.layers[0].wq) < 1e-5);
        assertTrue(maxAbsDiff(straight.wordEmbeddings, resumed.wordEmbeddings) < 1e-5);
        assertTrue(maxAbsDiff(straight.layers[1].wIn, interrupted.layers[1].wIn) > 1e-4);
    }

    /** The best epoch is kept beside the checkpoint, so a run resumed in epoch 2 can still return epoch 1. */
    @Test
    void aResumedRunStillChoosesAmongTheEpochsBeforeTheResume(@TempDir Path dir) throws Exception {
        BertConfig c = TinyBert.config();
        List<Encoding> train = data(c, 96, 1), valid = data(c, 24, 2);
        int[] y = train.stream().mapToInt(JointTrainerTest::label).toArray();
        int[] yv = valid.stream().mapToInt(JointTrainerTest::label).toArray();
        ExitTask task = ExitTask.classification("marker", List.of("no", "yes"));
        ExitLayout layout = new ExitLayout(Pooling.MEAN, false, true);
        JointTrainer.Options o = new JointTrainer.Options(2, 2e-3f, 5e-3f, 8, 42, 0.01f, 0f, 0f, 0.1f, 1.0, 4);
        TrainingProgress crashInEpoch2 = new TrainingProgress() {
            String stage = "";
            @Override public void stage(String name, long total, String unit) { stage = name; }
            @Override public void advance(long done) {
                if (stage.startsWith("joint epoch 2") && done == 7) throw new RuntimeException("interrupted");
            }
        };
        assertThrows(RuntimeException.class, () -> JointTrainer.train(TinyBert.weights(c, 3, false), "tiny", task, layout,
                train, y, null, valid, yv, null, 16, o, dir, crashInEpoch2));
        Path best = dir.resolve(JointTrainer.BEST_DIR);
        MultiExitModel epoch1 = MultiExitModel.load(best);
        assertEquals(1, epoch1.training().options().path("best_epoch").asInt());
        // make epoch 1 unbeatable: the resumed run must return it, which it can only know from the saved folder
        Path config = best.resolve(MultiExitModel.CONFIG_FILE);
        String json = Files.readString(config);
        String tampered = json.replaceAll("\"validation_score\"\\s*:\\s*[-0-9.Ee]+", "\"validation_score\" : 1.0E9");
        assertNotEquals(json, tampered);
        Files.writeString(config, tampered);

        List<String> log = new ArrayList<>();
        MultiExitModel m = JointTrainer.train(TinyBert.weights(c, 3, false), "tiny", task, layout, train, y, null, valid,
                yv, null, 16, o, dir, new TrainingProgress() {
                    @Override public void log(String line) { log.add(line); }
                });
        assertTrue(log.get(1).startsWith("best epoch so far: 1"), log.toString());
        assertEquals(1, m.training().options().path("best_epoch").asInt());
        assertArrayEquals(epoch1.heads().params(), m.heads().params());
        assertArrayEquals(epoch1.fineTunedBackbone().layers[1].wIn, m.fineTunedBackbone().layers[1].wIn);
        assertArrayEquals(epoch1.training().devMetrics(), m.training().devMetrics());
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
