package dev.offramp.generation;

import dev.offramp.decoder.LlamaDecoder;
import dev.offramp.lm.TokenFile;
import dev.offramp.weights.PretrainedDecoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** The draft adapter: its gradient, its kernel against the scalar twin, its file, and what training it buys. */
class DraftAdapterTest {

    /** Central differences of the batch loss against the analytic dL/dA, every entry of a small A. */
    @Test
    void gradientMatchesFiniteDifferences() {
        int c = 6, v = 11, b = 5;
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[b * c], head = new float[c * v], a = new float[c * c], grad = new float[c * c];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < head.length; i++) head[i] = (float) r.nextGaussian();
        for (int i = 0; i < a.length; i++) a[i] = (float) (0.3 * r.nextGaussian());
        int[] y = new int[b];
        for (int i = 0; i < b; i++) y[i] = r.nextInt(v);
        DraftAdapterTrainer.Work w = new DraftAdapterTrainer.Work(b, c, v);
        DraftAdapterTrainer.lossAndGradient(x, y, b, a, head, c, v, grad, w);
        float[] scratch = new float[c * c];
        double eps = 1e-2, worst = 0;
        for (int i = 0; i < a.length; i++) {
            float keep = a[i];
            a[i] = (float) (keep + eps);
            double up = DraftAdapterTrainer.lossAndGradient(x, y, b, a, head, c, v, scratch, w);
            a[i] = (float) (keep - eps);
            double down = DraftAdapterTrainer.lossAndGradient(x, y, b, a, head, c, v, scratch, w);
            a[i] = keep;
            double numeric = (up - down) / (2 * eps);
            worst = Math.max(worst, Math.abs(numeric - grad[i]) / Math.max(1e-2, Math.abs(numeric) + Math.abs(grad[i])));
        }
        assertTrue(worst < 1e-2, "worst relative error " + worst);
    }

    @Test
    void applyMatchesItsScalarTwinAndSurvivesTheFile(@TempDir Path dir) {
        int c = 48;
        SplittableRandom r = new SplittableRandom(5);
        float[] a = new float[c * c], x = new float[c + 3];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian() / c;
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        DraftAdapter d = new DraftAdapter(2, c, a);
        float[] fast = new float[c + 1], slow = new float[c + 1];
        d.apply(x, 3, fast, 1);
        d.applyScalar(x, 3, slow, 1);
        for (int i = 1; i <= c; i++) assertEquals(slow[i], fast[i], 1e-4, "row " + i);
        assertNotEquals(x[3], fast[1], "a non-zero A changes the state");

        Path file = dir.resolve(DraftAdapter.FILE);
        d.save(file);
        DraftAdapter back = DraftAdapter.load(file, 4, c);
        assertEquals(2, back.layer());
        float[] again = new float[c + 1];
        back.apply(x, 3, again, 1);
        assertArrayEquals(fast, again);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DraftAdapter.load(file, 4, 64));
        assertTrue(e.getMessage().contains("does not fit a model of 4 layers of width 64"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DraftAdapter.load(file, 2, c), "exit 2 is the last layer of 2");
    }

    /**
     * Trained on the tiny model's own greedy continuations, the adapter raises the draft exit's agreement with full
     * depth on the continuations kept aside; speculative decoding with it still emits full depth's tokens exactly.
     * (Whether it is faster is a benchmark's question: on demo-lm, docs/results/generation.md.)
     */
    @Test
    void trainingRaisesAgreementAndSpeculativeOutputStaysFullDepths() throws Exception {
        PretrainedDecoder p = TinyLm.load();
        LlamaDecoder model = new LlamaDecoder(p.weights());
        int[] train = TokenFile.read(TinyLm.folder().resolve("train/train.tokens"));
        DraftAdapterTrainer.Options o = new DraftAdapterTrainer.Options(1, 200, 8, 24, 6, 128, 3e-3, 11);
        List<Integer> progress = new ArrayList<>();
        DraftAdapterTrainer.Data data = DraftAdapterTrainer.collect(model, train, o, progress::add);
        assertEquals(200 * 24, data.count());
        assertEquals(200, progress.getLast());
        DraftAdapterTrainer.Result r = DraftAdapterTrainer.train(p.weights().lmHeadInOut(), p.config().vocabSize(), data, o, s -> {});
        assertTrue(r.agreementAfter() > r.agreementBefore() + 0.01, r.toString());

        EarlyExitDecoder d = new EarlyExitDecoder(model);
        EarlyExitDecoder.Session s = d.newSession(12 + 30, 12);
        int changedDrafts = 0;
        for (int[] prompt : EarlyExitDecoderTest.prompts(8)) {
            int[] full = d.generate(s, prompt, 30, TokenCriteria.full(), KvMode.PROPAGATE, null).tokens();
            EarlyExitDecoder.Generated plain = d.generate(s, prompt, 30, new TokenCriteria.Speculative(1, 4), KvMode.PROPAGATE, null);
            EarlyExitDecoder.Generated adapted = d.generate(s, prompt, 30, new TokenCriteria.Speculative(1, 4, r.adapter()),
                    KvMode.PROPAGATE, null);
            assertArrayEquals(full, adapted.tokens(), "with the adapter, still full depth's tokens");
            if (adapted.verifications() != plain.verifications()) changedDrafts++;
        }
        assertTrue(changedDrafts > 0, "the adapter changes which drafts are kept on some prompt");
        assertThrows(IllegalArgumentException.class, () -> new TokenCriteria.Speculative(2, 4, r.adapter()),
                "an adapter trained for exit 1 is refused at exit 2");
        assertThrows(IllegalArgumentException.class, () -> DraftAdapterTrainer.collect(model, train,
                new DraftAdapterTrainer.Options(TinyLm.LAYERS, 2, 8, 4, 1, 8, 1e-3, 1), null));
    }
}
