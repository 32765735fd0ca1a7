package dev.offramp.decoder;

import dev.offramp.model.ParameterSet;
import dev.offramp.weights.DecoderConfig;
import dev.offramp.weights.DecoderWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole decoder trainer: its gradient of the early-exit loss against finite differences of the double-precision
 * {@link ReferenceDecoder}, tensor by tensor, and its forward against the inference engine's.
 */
class DecoderTrainerTest {

    /** V 23, C 8, 4 query heads over 2 KV heads of 4 (so Q = 16 ≠ C), I 12. */
    static DecoderConfig tinyConfig(boolean tied, int layers) {
        return new DecoderConfig(DecoderConfig.LLAMA, 23, 8, 12, layers, 4, 2, 4, 64, 1e-5f, 10000.0, null, tied,
                false, -1, List.of());
    }

    static int[] randomIds(SplittableRandom r, int n, int v) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = r.nextInt(v);
        return a;
    }

    @ParameterizedTest(name = "tied={0} weighting={1} stride={2} layerDropout={3}")
    @CsvSource({"false, LINEAR, 1, 0", "true, LINEAR, 2, 0.6", "false, MEAN, 3, 0", "true, LAST, 1, 0"})
    void gradientsMatchFiniteDifferences(boolean tied, ExitWeighting weighting, int stride, float layerDropout) {
        int layers = 3, batch = 2, seq = 6;
        DecoderConfig cfg = tinyConfig(tied, layers);
        DecoderWeights w = TinyDecoders.randomWeights(cfg, 11);
        SplittableRandom r = new SplittableRandom(12);
        int[] tokens = randomIds(r, batch * seq, cfg.vocabSize()), targets = randomIds(r, batch * seq, cfg.vocabSize());
        long seed = 5;
        // a step whose masks skip a layer for some sequence, but no layer for every sequence (that layer would
        // have no gradient to check)
        long step = 0;
        boolean[][] dropped = new boolean[layers][batch];
        if (layerDropout > 0) {
            for (; ; step++) {
                boolean some = false, layerGone = false;
                for (int l = 0; l < layers; l++) {
                    boolean all = true;
                    for (int b = 0; b < batch; b++) {
                        dropped[l][b] = DecoderTrainer.layerDropped(seed, step, l, b, layerDropout, layers);
                        some |= dropped[l][b];
                        all &= dropped[l][b];
                    }
                    layerGone |= all;
                }
                if (some && !layerGone) break;
            }
        }
        DecoderTrainer trainer = new DecoderTrainer(w, batch, seq, new DecoderTrainer.Options(weighting, stride, layerDropout, seed));
        double loss = trainer.trainStep(tokens, targets, step);
        ParameterSet set = new ParameterSet();
        trainer.addParameters(set);
        List<double[]> p = ReferenceDecoder.tensors(w);
        assertEquals(p.size(), set.size());
        double[] exitWeights = weighting.weights(layers);
        java.util.function.DoubleSupplier ref = () -> ReferenceDecoder.loss(cfg, p, tokens, targets, batch, seq,
                exitWeights, stride, dropped);
        assertEquals(ref.getAsDouble(), loss, 1e-5 * Math.abs(loss), "loss");
        for (int i = 0; i < set.size(); i++) {
            ParameterSet.Entry e = set.entries().get(i);
            DecoderOpGradientTest.assertClose(e.name(), DecoderOpGradientTest.finiteDifferences(p.get(i), ref), e.grad(), 2e-4);
        }
    }

    /**
     * Self-distillation: the intermediate exits' targets mix in the last exit's softmax of the same forward, held
     * constant. The reference takes that softmax once, at the unperturbed weights, as the trainer does.
     */
    @ParameterizedTest(name = "tied={0} stride={1} beta={2} top1={3}")
    @CsvSource({"false, 1, 0.5, false", "true, 2, 1.0, false", "false, 2, 0.7, true"})
    void distillationGradientsMatchFiniteDifferencesWithTheTeacherHeld(boolean tied, int stride, float beta, boolean top1) {
        int layers = 3, batch = 2, seq = 5;
        DecoderConfig cfg = tinyConfig(tied, layers);
        DecoderWeights w = TinyDecoders.randomWeights(cfg, 21);
        SplittableRandom r = new SplittableRandom(22);
        int[] tokens = randomIds(r, batch * seq, cfg.vocabSize()), targets = randomIds(r, batch * seq, cfg.vocabSize());
        DecoderTrainer trainer = new DecoderTrainer(w, batch, seq,
                new DecoderTrainer.Options(ExitWeighting.MEAN, stride, 0f, 1, beta, top1));
        double loss = trainer.trainStep(tokens, targets, 0);
        ParameterSet set = new ParameterSet();
        trainer.addParameters(set);
        List<double[]> p = ReferenceDecoder.tensors(w);
        double[] exitWeights = ExitWeighting.MEAN.weights(layers);
        double[][] teacher = new double[batch * seq][];
        double plain = ReferenceDecoder.loss(cfg, p, tokens, targets, batch, seq, exitWeights, stride, null, 0, null, teacher);
        if (top1) {   // the one-hot of each row's most probable token
            for (double[] q : teacher) {
                int best = 0;
                for (int j = 1; j < q.length; j++) if (q[j] > q[best]) best = j;
                java.util.Arrays.fill(q, 0);
                q[best] = 1;
            }
        }
        java.util.function.DoubleSupplier ref = () -> ReferenceDecoder.loss(cfg, p, tokens, targets, batch, seq,
                exitWeights, stride, null, beta, teacher, null);
        assertEquals(ref.getAsDouble(), loss, 1e-5 * Math.abs(loss), "loss");
        assertTrue(Math.abs(ref.getAsDouble() - plain) > 1e-3, "the soft targets change the loss");
        for (int i = 0; i < set.size(); i++) {
            ParameterSet.Entry e = set.entries().get(i);
            DecoderOpGradientTest.assertClose(e.name(), DecoderOpGradientTest.finiteDifferences(p.get(i), ref), e.grad(), 2e-4);
        }
    }

    @Test
    void aSecondStepAddsToTheGradients() {
        DecoderConfig cfg = tinyConfig(false, 2);
        DecoderWeights w = TinyDecoders.randomWeights(cfg, 3);
        SplittableRandom r = new SplittableRandom(4);
        int[] tokens = randomIds(r, 8, cfg.vocabSize()), targets = randomIds(r, 8, cfg.vocabSize());
        DecoderTrainer trainer = new DecoderTrainer(w, 2, 4, DecoderTrainer.Options.defaults());
        trainer.trainStep(tokens, targets, 0);
        float[] once = trainer.gradients().layers[0].dWq.clone();
        trainer.trainStep(tokens, targets, 1);
        for (int i = 0; i < once.length; i++) assertEquals(2 * once[i], trainer.gradients().layers[0].dWq[i], 1e-5f * (1 + Math.abs(once[i])));
        trainer.gradients().zero();
        for (float[] g : trainer.gradients().all()) for (float v : g) assertEquals(0f, v);
    }

    @ParameterizedTest(name = "tied={0}")
    @CsvSource({"false", "true"})
    void forwardMatchesTheInferenceEngineAtEveryExit(boolean tied) {
        int layers = 3, batch = 3, seq = 9;
        DecoderConfig cfg = tinyConfig(tied, layers);
        DecoderWeights w = TinyDecoders.randomWeights(cfg, 21);
        SplittableRandom r = new SplittableRandom(22);
        int[] tokens = randomIds(r, batch * seq, cfg.vocabSize()), targets = randomIds(r, batch * seq, cfg.vocabSize());
        DecoderTrainer trainer = new DecoderTrainer(w, batch, seq, DecoderTrainer.Options.defaults());
        double[] perExit = new double[layers], agreement = new double[layers];
        double last = trainer.evaluate(tokens, targets, perExit, agreement);
        LlamaDecoder engine = new LlamaDecoder(w);
        int v = cfg.vocabSize();
        float[] got = new float[batch * seq * v];
        // agreement: the share of rows whose top-1 at exit l is the last exit's, from the exits' logits
        float[] lastLogits = new float[batch * seq * v];
        trainer.exitLogits(layers, lastLogits);
        for (int l = 1; l <= layers; l++) {
            trainer.exitLogits(l, got);
            int same = 0;
            for (int row = 0; row < batch * seq; row++) if (argmax(got, row * v, v) == argmax(lastLogits, row * v, v)) same++;
            assertEquals((double) same / (batch * seq), agreement[l - 1], 1e-12, "agreement of exit " + l);
        }
        assertEquals(1.0, agreement[layers - 1]);
        for (int l = 1; l <= layers; l++) {
            trainer.exitLogits(l, got);
            double ce = 0, maxAbs = 0, maxDiff = 0;
            for (int b = 0; b < batch; b++) {
                DecoderState s = engine.newState(seq, seq);
                engine.begin(s, java.util.Arrays.copyOfRange(tokens, b * seq, (b + 1) * seq), 0, seq);
                for (int k = 0; k < l; k++) engine.layer(s, k);
                float[] want = new float[seq * v];
                engine.logits(s, 0, seq, want, 0);
                for (int i = 0; i < seq * v; i++) {
                    maxAbs = Math.max(maxAbs, Math.abs(want[i]));
                    maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[b * seq * v + i]));
                }
                for (int i = 0; i < seq; i++) {
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = 0; j < v; j++) max = Math.max(max, want[i * v + j]);
                    for (int j = 0; j < v; j++) sum += Math.exp(want[i * v + j] - max);
                    ce += Math.log(sum) + max - want[i * v + targets[b * seq + i]];
                }
            }
            assertTrue(maxDiff <= 1e-5 * maxAbs, "exit " + l + ": logits differ by " + maxDiff + " (max |logit| " + maxAbs + ")");
            assertEquals(ce / (batch * seq), perExit[l - 1], 1e-5, "exit " + l + " cross-entropy");
        }
        assertEquals(perExit[layers - 1], last);
    }

    @Test
    void wrongShapesAreRefusedWithTheirSizes() {
        DecoderConfig cfg = tinyConfig(true, 1);
        DecoderTrainer trainer = new DecoderTrainer(TinyDecoders.randomWeights(cfg, 1), 2, 4, DecoderTrainer.Options.defaults());
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> trainer.trainStep(new int[7], new int[8], 0));
        assertTrue(e.getMessage().contains("B·T = 2·4 = 8"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> trainer.trainStep(new int[8], new int[]{0, 1, 2, 3, 4, 5, 6, 99}, 0));
        assertTrue(e.getMessage().contains("target id 99 at 7"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new DecoderTrainer(TinyDecoders.randomWeights(cfg, 1), 1, 65, DecoderTrainer.Options.defaults()));
        assertTrue(e.getMessage().contains("max_position_embeddings 64"), e.getMessage());
    }

    static int argmax(float[] z, int off, int v) {
        int best = 0;
        for (int j = 1; j < v; j++) if (z[off + j] > z[off + best]) best = j;
        return best;
    }
}
