package dev.offramp.training;

import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.ExitLayout;
import dev.offramp.exits.ExitTask;
import dev.offramp.exits.LayerwiseOutputs;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.Pooling;
import dev.offramp.exits.TinyBert;
import dev.offramp.model.BertEncoder;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class FrozenTrainerTest {
    static final int L = 4, H = 16, K = 3;
    /** How strongly each layer's features carry the class: deeper layers know more, as in a real backbone. */
    static final float[] SIGNAL = {0.15f, 0.5f, 1.0f, 2.0f};

    record Synthetic(FeatureCache features, int[] labels) {}

    /** Per layer: feature = SIGNAL[l] · centroid[y] + N(0, 1) noise, centroids N(0, 1) in H dimensions. */
    static Synthetic synthetic(int n, long seed) {
        SplittableRandom cr = new SplittableRandom(1234);  // the same centroids for train and validation
        float[][] centroids = new float[K][H];
        for (float[] c : centroids) for (int i = 0; i < H; i++) c[i] = (float) cr.nextGaussian();
        SplittableRandom r = new SplittableRandom(seed);
        int[] labels = new int[n];
        float[][] byLayer = new float[L][n * H];
        for (int s = 0; s < n; s++) {
            labels[s] = r.nextInt(K);
            for (int l = 0; l < L; l++) {
                for (int i = 0; i < H; i++) byLayer[l][s * H + i] = SIGNAL[l] * centroids[labels[s]][i] + (float) r.nextGaussian();
            }
        }
        return new Synthetic(new FeatureCache(byLayer, n, H), labels);
    }

    @Test
    void learnsSeparableFeaturesAndKeepsTheBestEpoch() {
        Synthetic train = synthetic(800, 1), valid = synthetic(300, 2);
        ExitHeads heads = ExitHeads.create(H, L, K, ExitLayout.DEFAULT, null, 3);
        FrozenTrainer.Options o = FrozenTrainer.Options.defaults().withEpochs(6).withLearningRate(5e-3f);
        FrozenTrainer.Result r = FrozenTrainer.train(heads, train.features(), train.labels(), null,
                FrozenTrainer.Validation.accuracy(valid.features(), valid.labels()), o);

        List<FrozenTrainer.EpochReport> ep = r.epochs();
        for (FrozenTrainer.EpochReport e : ep) {
            System.out.printf("epoch %d loss %.4f train acc %s valid acc %s%n", e.epoch(), e.trainLoss(),
                    Arrays.toString(e.trainAccuracy()), Arrays.toString(e.validation()));
        }
        assertEquals(6, ep.size());
        assertTrue(ep.get(5).trainLoss() < 0.6 * ep.get(0).trainLoss(), "loss did not fall: " + ep.get(0).trainLoss() + " → " + ep.get(5).trainLoss());
        double[] val = r.best().validation();
        assertTrue(val[L - 1] > 0.95, "last exit validation accuracy " + val[L - 1]);
        assertTrue(val[L - 1] > val[0], "deeper features must give a better exit: " + Arrays.toString(val));
        assertTrue(r.best().trainAccuracy()[L - 1] > 0.9, Arrays.toString(r.best().trainAccuracy()));

        // the heads returned are the best epoch's: recomputing gives the reported metrics
        LayerwiseOutputs again = LayerwiseOutputs.fromPooled(heads, valid.features().byLayer(), 300);
        assertArrayEquals(val, again.accuracyPerExit(valid.labels()), 1e-12);
        double bestMean = Arrays.stream(val).average().orElseThrow();
        for (FrozenTrainer.EpochReport e : ep) assertTrue(Arrays.stream(e.validation()).average().orElseThrow() <= bestMean + 1e-12);
    }

    @Test
    void sameSeedSameHeads() {
        Synthetic train = synthetic(200, 1);
        FrozenTrainer.Options o = FrozenTrainer.Options.defaults().withEpochs(2);
        ExitHeads a = ExitHeads.create(H, L, K, new ExitLayout(Pooling.CLS, true, false), null, 3);
        ExitHeads b = ExitHeads.create(H, L, K, new ExitLayout(Pooling.CLS, true, false), null, 3);
        FrozenTrainer.train(a, train.features(), train.labels(), null, null, o);
        FrozenTrainer.train(b, train.features(), train.labels(), null, null, o);
        assertArrayEquals(a.params(), b.params());
    }

    /** Two-stage stage 2: only exits 1..L−1 train; the pooler and the last exit stay as they were. */
    @Test
    void stageTwoLeavesPoolerAndLastExitAlone() {
        Synthetic train = synthetic(200, 1);
        ExitHeads heads = ExitHeads.create(H, L, K, ExitLayout.DEFAULT, null, 3);
        float[] before = heads.params().clone();
        FrozenTrainer.Options o = FrozenTrainer.Options.defaults().withEpochs(2).withExits(new int[]{1, 2, 3}, false);
        FrozenTrainer.Result r = FrozenTrainer.train(heads, train.features(), train.labels(), null, null, o);
        for (String name : List.of("exits.pooler.dense.weight", "exits.pooler.dense.bias", "exits.4.classifier.weight")) {
            ExitHeads.Tensor t = heads.tensor(name);
            assertArrayEquals(Arrays.copyOfRange(before, t.offset(), t.offset() + t.size()),
                    Arrays.copyOfRange(heads.params(), t.offset(), t.offset() + t.size()), name);
        }
        ExitHeads.Tensor t = heads.tensor("exits.3.classifier.weight");
        assertFalse(Arrays.equals(Arrays.copyOfRange(before, t.offset(), t.offset() + t.size()),
                Arrays.copyOfRange(heads.params(), t.offset(), t.offset() + t.size())));
        assertTrue(Double.isNaN(r.best().trainLossPerExit()[L - 1]));
    }

    @Test
    void regressionMseFalls() {
        Synthetic train = synthetic(600, 1), valid = synthetic(200, 2);
        float[] tTrain = targets(train), tValid = targets(valid);
        ExitHeads heads = ExitHeads.create(H, L, 1, new ExitLayout(Pooling.MEAN, true, true), null, 3);
        FrozenTrainer.Options o = FrozenTrainer.Options.defaults().withEpochs(6).withLearningRate(5e-3f).withDropout(0f);
        FrozenTrainer.Result r = FrozenTrainer.train(heads, train.features(), null, tTrain,
                FrozenTrainer.Validation.mse(valid.features(), tValid), o);
        double variance = 0, mean = 0;
        for (float t : tValid) mean += t / tValid.length;
        for (float t : tValid) variance += (t - mean) * (t - mean) / tValid.length;
        double lastMse = r.best().validation()[L - 1];
        assertTrue(lastMse < 0.3 * variance, "validation MSE " + lastMse + " vs target variance " + variance);
        assertTrue(r.epochs().get(5).trainLoss() < r.epochs().get(0).trainLoss());
    }

    /** A score in [0, 2] from the class: learnable from the deep features. */
    private static float[] targets(Synthetic s) {
        float[] t = new float[s.labels().length];
        for (int i = 0; i < t.length; i++) t[i] = s.labels()[i];
        return t;
    }

    /** The whole fast path on a tiny random encoder: features are cached to files and reused. */
    @Test
    void runBuildsAModelAndReusesTheFeatureCache(@TempDir Path tmp) throws IOException {
        BertConfig c = TinyBert.config();
        BertEncoder enc = new BertEncoder(TinyBert.weights(c, 4, true));
        List<Encoding> trainIn = TinyBert.inputs(60, 12, c.vocabSize(), 1), validIn = TinyBert.inputs(20, 12, c.vocabSize(), 2);
        int[] trainY = new int[60], validY = new int[20];
        for (int i = 0; i < 60; i++) trainY[i] = trainIn.get(i).length() % 2;  // length parity: visible to mean pooling
        for (int i = 0; i < 20; i++) validY[i] = validIn.get(i).length() % 2;
        ExitTask task = ExitTask.classification("parity", List.of("even", "odd"));
        ExitLayout layout = new ExitLayout(Pooling.MEAN, false, true);
        FrozenTrainer.Options o = FrozenTrainer.Options.defaults().withEpochs(2).withBatchSize(16);
        MultiExitModel m = FrozenTrainer.run(enc, "tiny", task, layout, trainIn, trainY, null, validIn, validY, null, 16, tmp, o);
        assertEquals("frozen", m.training().mode());
        assertEquals(c.layers(), m.training().devMetrics().length);
        assertEquals(2, Files.list(tmp).count(), "one cache file for train, one for validation");
        assertNull(m.fineTunedBackbone());

        MultiExitModel again = FrozenTrainer.run(enc, "tiny", task, layout, trainIn, trainY, null, validIn, validY, null, 16, tmp, o);
        assertArrayEquals(m.heads().params(), again.heads().params(), "cached features must give the same training");
        m.save(tmp.resolve("model"));
        assertArrayEquals(m.heads().params(), MultiExitModel.load(tmp.resolve("model")).heads().params());
    }
}
