package dev.offramp.model;

import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;
import dev.offramp.weights.BertWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The trainer's analytic float gradients against central finite differences of an independent double
 * reference ({@link ReferenceEncoder}), tensor by tensor, for every parameter of a tiny encoder; and its forward
 * against the inference engine.
 */
class EncoderTrainerTest {
    private static final int[] LENGTHS = {5, 7, 3};

    /** Loss = Σ_l Σ R_l ⊙ output_l over every layer, the embeddings included. */
    private static float[][] lossWeights(BertConfig c, int tokens, long seed) {
        Random r = new Random(seed);
        float[][] w = new float[c.layers() + 1][];
        for (int l = 0; l <= c.layers(); l++) w[l] = TinyModels.gauss(r, tokens * c.hidden(), 1f);
        return w;
    }

    private static int tokens() {
        int n = 0;
        for (int t : LENGTHS) n += t;
        return n;
    }

    /** Relative error ||g − g_fd|| / ||g_fd|| of every tensor, finite differences over every entry. */
    private static void checkAllGradients(BertWeights w, EncoderGradients g, List<Encoding> batch,
                                          ReferenceEncoder.DropoutSpec drop, float[][] lossW, boolean[] frozen) {
        ReferenceEncoder ref = new ReferenceEncoder(w);
        List<float[]> grads = TinyModels.tensors(g);
        List<String> names = TinyModels.tensorNames(w.config);
        double eps = 1e-5;
        StringBuilder failures = new StringBuilder();
        double worst = 0;
        for (int ti = 0; ti < ref.p.length; ti++) {
            double[] p = ref.p[ti];
            float[] gr = grads.get(ti);
            double diff = 0, norm = 0, gnorm = 0;
            for (int i = 0; i < p.length; i++) {
                double saved = p[i];
                p[i] = saved + eps;
                double lp = ref.loss(batch, drop, lossW);
                p[i] = saved - eps;
                double lm = ref.loss(batch, drop, lossW);
                p[i] = saved;
                double fd = (lp - lm) / (2 * eps);
                if (frozen != null && frozen[ti]) fd = 0; // a frozen tensor must get no gradient at all
                diff += (gr[i] - fd) * (gr[i] - fd);
                norm += fd * fd;
                gnorm += (double) gr[i] * gr[i];
            }
            double rel = norm > 1e-16 ? Math.sqrt(diff / norm) : Math.sqrt(gnorm);
            worst = Math.max(worst, rel);
            if (!(rel < 1e-3)) failures.append(names.get(ti)).append(": rel err ").append(rel)
                    .append(" (|g_fd| ").append(Math.sqrt(norm)).append(", |g| ").append(Math.sqrt(gnorm)).append(")\n");
            // the key bias adds q·b to a whole row of scores, which softmax ignores: its gradient is truly zero
            if ((frozen == null || !frozen[ti]) && !names.get(ti).endsWith(".bk")) {
                assertTrue(norm > 1e-12, names.get(ti) + " has no gradient: the check would be vacuous");
            }
        }
        if (!failures.isEmpty()) fail("gradients disagree with finite differences:\n" + failures);
        System.out.printf("gradient check: worst relative error %.2e over %d tensors%n", worst, ref.p.length);
    }

    @ParameterizedTest
    @EnumSource(BertConfig.Activation.class)
    void everyParameterGradientMatchesFiniteDifferences(BertConfig.Activation act) {
        BertConfig c = TinyModels.tinyConfig(act);
        BertWeights w = TinyModels.randomWeights(c, 42);
        List<Encoding> batch = TinyModels.randomBatch(c, 7, LENGTHS);
        float[][] lossW = lossWeights(c, tokens(), 3);
        EncoderTrainer trainer = new EncoderTrainer(w, EncoderTrainer.Options.noDropout());
        TrainingStep s = trainer.forward(batch, true);
        trainer.backward(s, lossW);
        checkAllGradients(w, trainer.gradients(), batch, null, lossW, null);
    }

    @Test
    void gradientsWithDropoutMatchFiniteDifferencesUnderTheSameMasks() {
        BertConfig c = TinyModels.tinyConfig(BertConfig.Activation.GELU_EXACT);
        BertWeights w = TinyModels.randomWeights(c, 43);
        List<Encoding> batch = TinyModels.randomBatch(c, 8, LENGTHS);
        float[][] lossW = lossWeights(c, tokens(), 4);
        EncoderTrainer trainer = new EncoderTrainer(w, new EncoderTrainer.Options(0.2f, 0.25f, 99L, false, 0));
        trainer.forward(batch, true); // step 0: advances the dropout step, so the checked step below is 1
        TrainingStep s = trainer.forward(batch, true);
        trainer.backward(s, lossW);
        checkAllGradients(w, trainer.gradients(), batch, new ReferenceEncoder.DropoutSpec(0.2, 0.25, 99L, 1), lossW, null);
    }

    @Test
    void frozenPartsGetNoGradientAndTheRestIsUnchanged() {
        BertConfig c = TinyModels.tinyConfig(BertConfig.Activation.GELU_EXACT);
        BertWeights w = TinyModels.randomWeights(c, 44);
        List<Encoding> batch = TinyModels.randomBatch(c, 9, LENGTHS);
        float[][] lossW = lossWeights(c, tokens(), 5);
        EncoderTrainer frozen = new EncoderTrainer(w, new EncoderTrainer.Options(0f, 0f, 0L, true, 1));
        frozen.backward(frozen.forward(batch, true), lossW);
        EncoderTrainer full = new EncoderTrainer(w, EncoderTrainer.Options.noDropout());
        full.backward(full.forward(batch, true), lossW);
        List<float[]> gf = TinyModels.tensors(frozen.gradients()), ga = TinyModels.tensors(full.gradients());
        List<String> names = TinyModels.tensorNames(c);
        for (int i = 0; i < gf.size(); i++) {
            boolean isFrozen = i < 5 + 16; // embeddings and layer 0
            if (isFrozen) assertArrayEquals(new float[gf.get(i).length], gf.get(i), names.get(i) + " is frozen");
            else assertArrayEquals(ga.get(i), gf.get(i), 1e-6f, names.get(i) + " trains as without freezing");
        }
        // layers frozen but embeddings trainable: the gradient must still flow through the frozen layers
        EncoderTrainer middle = new EncoderTrainer(w, new EncoderTrainer.Options(0f, 0f, 0L, false, 2));
        middle.backward(middle.forward(batch, true), lossW);
        assertArrayEquals(ga.get(0), TinyModels.tensors(middle.gradients()).get(0), 1e-6f);
        assertArrayEquals(new float[ga.get(5).length], TinyModels.tensors(middle.gradients()).get(5));
    }

    @ParameterizedTest
    @EnumSource(BertConfig.Activation.class)
    void trainingForwardWithoutDropoutEqualsInference(BertConfig.Activation act) {
        BertConfig c = TinyModels.tinyConfig(act);
        BertWeights w = TinyModels.randomWeights(c, 45);
        List<Encoding> batch = TinyModels.randomBatch(c, 10, LENGTHS);
        EncoderTrainer trainer = new EncoderTrainer(w, EncoderTrainer.Options.defaults(1L));
        TrainingStep s = trainer.forward(batch, false); // dropout off in eval mode even with p > 0
        BertEncoder encoder = new BertEncoder(w);
        EncoderBatch eb = encoder.start(encoder.newBatch(), batch);
        ReferenceEncoder ref = new ReferenceEncoder(w);
        double[][] expected = ref.forward(batch, null);
        int n = tokens() * c.hidden();
        for (int l = 0; l <= c.layers(); l++) {
            if (l > 0) encoder.layer(eb);
            float[] got = s.layerOutput(l), inf = eb.hidden();
            for (int i = 0; i < n; i++) {
                assertEquals(inf[i], got[i], 1e-5f, "layer " + l + " element " + i + " vs inference");
                assertEquals(expected[l][i], got[i], 1e-4, "layer " + l + " element " + i + " vs double reference");
            }
        }
    }

    @Test
    void dropoutChangesTheOutputDeterministicallyPerSeed() {
        BertConfig c = TinyModels.tinyConfig(BertConfig.Activation.GELU_EXACT);
        BertWeights w = TinyModels.randomWeights(c, 46);
        List<Encoding> batch = TinyModels.randomBatch(c, 11, LENGTHS);
        int n = tokens() * c.hidden(), last = c.layers();
        float[] off = copy(new EncoderTrainer(w, EncoderTrainer.Options.noDropout()).forward(batch, true).layerOutput(last), n);
        EncoderTrainer a = new EncoderTrainer(w, EncoderTrainer.Options.defaults(7L));
        EncoderTrainer b = new EncoderTrainer(w, EncoderTrainer.Options.defaults(7L));
        EncoderTrainer other = new EncoderTrainer(w, EncoderTrainer.Options.defaults(8L));
        float[] a1 = copy(a.forward(batch, true).layerOutput(last), n);
        float[] b1 = copy(b.forward(batch, true).layerOutput(last), n);
        float[] o1 = copy(other.forward(batch, true).layerOutput(last), n);
        float[] a2 = copy(a.forward(batch, true).layerOutput(last), n);
        float[] aEval = copy(a.forward(batch, false).layerOutput(last), n);
        assertArrayEquals(a1, b1, "same seed, same step: same masks");
        assertTrue(maxAbsDiff(a1, off) > 1e-2, "dropout on must change the output");
        assertTrue(maxAbsDiff(a1, o1) > 1e-2, "another seed draws other masks");
        assertTrue(maxAbsDiff(a1, a2) > 1e-2, "the next step draws new masks");
        assertArrayEquals(off, aEval, 1e-6f, "eval mode has no dropout");
        // the hidden dropout at the embeddings drops about p of the elements
        float[] emb = a.forward(batch, true).layerOutput(0);
        int zeros = 0;
        for (int i = 0; i < n; i++) if (emb[i] == 0f) zeros++;
        assertTrue(zeros > 0.02 * n && zeros < 0.25 * n, "dropped " + zeros + " of " + n);
    }

    @Test
    void rejectsBadInputsWithMessagesThatNameTheProblem() {
        BertConfig c = TinyModels.tinyConfig(BertConfig.Activation.GELU_EXACT);
        EncoderTrainer t = new EncoderTrainer(TinyModels.randomWeights(c, 1), EncoderTrainer.Options.noDropout());
        var e = assertThrows(IllegalArgumentException.class,
                () -> t.forward(List.of(new Encoding(new int[] {1, 77}, new int[] {0, 0})), true));
        assertTrue(e.getMessage().contains("77"), e.getMessage());
        TrainingStep s = t.forward(TinyModels.randomBatch(c, 1, 4), true);
        e = assertThrows(IllegalArgumentException.class, () -> t.backward(s, new float[1][]));
        assertTrue(e.getMessage().contains("L + 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new EncoderTrainer.Options(1f, 0f, 0L, false, 0));
    }

    @Test
    void buffersAreReusedAcrossBatchesOfDifferentShapes() {
        BertConfig c = TinyModels.tinyConfig(BertConfig.Activation.GELU_EXACT);
        BertWeights w = TinyModels.randomWeights(c, 47);
        EncoderTrainer t = new EncoderTrainer(w, EncoderTrainer.Options.noDropout());
        List<Encoding> small = TinyModels.randomBatch(c, 12, 4, 2);
        List<Encoding> big = TinyModels.randomBatch(c, 13, 9, 16, 3, 5);
        float[] first = copy(t.forward(small, true).layerOutput(2), 6 * c.hidden());
        t.forward(big, true);
        float[] again = copy(t.forward(small, true).layerOutput(2), 6 * c.hidden());
        assertArrayEquals(first, again, "a smaller batch after a bigger one computes the same");
    }

    static float[] copy(float[] a, int n) {
        return java.util.Arrays.copyOf(a, n);
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
