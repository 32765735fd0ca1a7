package dev.offramp.model;

import dev.offramp.weights.BertConfig;
import dev.offramp.weights.BertWeights;
import dev.offramp.weights.MaskedLmWeights;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/** The MLM head against a plain double-precision reference, and top-k against a full sort. */
class MaskedLmHeadTest {
    /** V = 1021 (a prime: the vector loops' tails run), H = 40. */
    static final BertConfig CONFIG = new BertConfig(1021, 40, 1, 4, 64, 16, 2, 1e-12f, BertConfig.Activation.GELU_TANH);

    static float[] gaussian(SplittableRandom r, int n, double std, double mean) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (mean + r.nextGaussian() * std);
        return a;
    }

    static BertWeights backbone(BertConfig c, SplittableRandom r) {
        int h = c.hidden(), in = c.intermediate();
        BertWeights.Layer[] layers = new BertWeights.Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new BertWeights.Layer(gaussian(r, h * h, .1, 0), gaussian(r, h, .1, 0), gaussian(r, h * h, .1, 0),
                    gaussian(r, h, .1, 0), gaussian(r, h * h, .1, 0), gaussian(r, h, .1, 0), gaussian(r, h * h, .1, 0),
                    gaussian(r, h, .1, 0), gaussian(r, h, .1, 1), gaussian(r, h, .1, 0), gaussian(r, h * in, .1, 0),
                    gaussian(r, in, .1, 0), gaussian(r, in * h, .1, 0), gaussian(r, h, .1, 0), gaussian(r, h, .1, 1),
                    gaussian(r, h, .1, 0));
        }
        return new BertWeights(c, gaussian(r, c.vocabSize() * h, .5, 0), gaussian(r, c.maxPositions() * h, .1, 0),
                gaussian(r, c.typeVocabSize() * h, .1, 0), gaussian(r, h, .1, 1), gaussian(r, h, .1, 0), layers, null, null);
    }

    /** The head in doubles, straight from its definition. */
    static double[] reference(BertWeights b, MaskedLmWeights w, float[] hidden, int off) {
        int h = b.config.hidden(), v = b.config.vocabSize();
        double[] t = new double[h];
        for (int o = 0; o < h; o++) {
            double s = w.transformB()[o];
            for (int i = 0; i < h; i++) s += (double) hidden[off + i] * w.transformW()[i * h + o];
            t[o] = 0.5 * s * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (s + 0.044715 * s * s * s)));
        }
        double mean = 0, var = 0;
        for (double x : t) mean += x / h;
        for (double x : t) var += (x - mean) * (x - mean) / h;
        for (int o = 0; o < h; o++) t[o] = (t[o] - mean) / Math.sqrt(var + 1e-12) * w.lnGamma()[o] + w.lnBeta()[o];
        double[] logits = new double[v];
        for (int id = 0; id < v; id++) {
            double s = w.outputBias()[id];
            for (int i = 0; i < h; i++) s += t[i] * b.wordEmbeddings[id * h + i];
            logits[id] = s;
        }
        return logits;
    }

    @Test
    void logitsMatchTheReference() {
        SplittableRandom r = new SplittableRandom(5);
        BertWeights b = backbone(CONFIG, r);
        int h = CONFIG.hidden(), v = CONFIG.vocabSize();
        MaskedLmWeights w = new MaskedLmWeights(gaussian(r, h * h, .3, 0), gaussian(r, h, .3, 0), gaussian(r, h, .1, 1),
                gaussian(r, h, .1, 0), gaussian(r, v, .5, 0));
        float[] hidden = gaussian(r, 7 * h, 1, 0); // a 7-token hidden state; ask for rows 5, 1 and 5 again
        int[] rows = {5 * h, h, 5 * h};
        float[] logits = new MaskedLmHead(b, w).logits(hidden, rows);
        assertEquals(rows.length * v, logits.length);
        for (int r0 = 0; r0 < rows.length; r0++) {
            double[] ref = reference(b, w, hidden, rows[r0]);
            double scale = 0;
            for (double x : ref) scale = Math.max(scale, Math.abs(x));
            for (int id = 0; id < v; id++) {
                assertEquals(ref[id], logits[r0 * v + id], 1e-5 * scale, "row " + r0 + " token " + id);
            }
        }
        assertArrayEquals(java.util.Arrays.copyOfRange(logits, 0, v), java.util.Arrays.copyOfRange(logits, 2 * v, 3 * v));
    }

    @Test
    void topKIsTheSortedSoftmaxHead() {
        SplittableRandom r = new SplittableRandom(9);
        int n = 1021;
        float[] logits = gaussian(r, n + 3, 3, 0);
        logits[100] = logits[200] = 50f; // a tie at the top: the lower id comes first
        List<MaskedLmHead.Token> top = MaskedLmHead.topK(logits, 3, n, 5);
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[3 + i]);
        for (int i = 0; i < n; i++) sum += Math.exp(logits[3 + i] - max);
        List<Integer> sorted = IntStream.range(0, n).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -logits[3 + i]).thenComparingInt(i -> i)).toList();
        assertEquals(5, top.size());
        List<Integer> ids = new ArrayList<>();
        for (int j = 0; j < 5; j++) {
            ids.add(top.get(j).id());
            assertEquals(Math.exp(logits[3 + sorted.get(j)] - max) / sum, top.get(j).probability(), 1e-6);
        }
        assertEquals(sorted.subList(0, 5), ids);
        assertEquals(97, ids.get(0), "logits[100] is id 97 of the row starting at 3");
        assertEquals(2, MaskedLmHead.topK(new float[]{1, 2}, 0, 2, 5).size(), "k larger than the row");
    }
}
