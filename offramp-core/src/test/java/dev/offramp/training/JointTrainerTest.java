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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A short joint run on a tiny random BERT: the loss falls, the exits learn, and a checkpoint resumes. */
class JointTrainerTest {
    /** Label = whether token id 3 occurs: learnable only by looking past [CLS], through attention. */
    private static int label(Encoding e) {
        for (int id : e.ids()) if (id == 3) return 1;
        return 0;
    }

    private static List<Encoding> data(BertConfig c, int n, long seed) {
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
        JointTrainer.Options o = new JointTrainer.Options(6, 2e-3f, 5e-3f, 16, 42, 0.01f, 0f, 0f, 0.1f, 1.0);
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

        // resuming a finished run trains nothing more and says so
        List<String> log2 = new ArrayList<>();
        TrainingProgress p2 = new TrainingProgress() {
            @Override public void log(String line) { log2.add(line); }
        };
        BertWeights fresh = TinyBert.weights(c, 3, false);
        IllegalStateException done = assertThrows(IllegalStateException.class, () ->
                JointTrainer.train(fresh, "tiny", task, new ExitLayout(Pooling.MEAN, false, true), train, y, null, valid,
                        yv, null, 16, o, dir.resolve("ck"), p2));
        assertTrue(done.getMessage().contains("checkpoint"), done.getMessage());
        assertTrue(log2.get(0).startsWith("resuming after epoch 6"), log2.toString());
        // the checkpoint restored the end-of-run backbone (w was trained in place) into the fresh weights
        assertArrayEquals(w.layers[1].wIn, fresh.layers[1].wIn);
        assertArrayEquals(w.wordEmbeddings, fresh.wordEmbeddings);
    }
}
