package dev.offramp.eval;

import dev.offramp.data.Example;
import dev.offramp.data.Task;
import dev.offramp.data.Tasks;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsTest {

    private static final double EPS = 1e-12;

    @Test
    void accuracyAndF1ByHand() {
        int[] gold = {1, 1, 1, 0, 0, 0};
        int[] pred = {1, 0, 1, 0, 0, 1};
        assertEquals(4.0 / 6, Metrics.accuracy(pred, gold), EPS);
        // TP 2, FP 1, FN 1 → 2·2 / (2·2 + 1 + 1)
        assertEquals(4.0 / 6, Metrics.f1(pred, gold), EPS);
        assertEquals(0.0, Metrics.f1(new int[]{0, 0}, new int[]{1, 0}), EPS); // no true positive
        // class 0: TP 2, FP 1, FN 1 → 2/3; class 1: 2/3; class 2: absent → 0
        assertEquals((4.0 / 6 + 4.0 / 6 + 0) / 3, Metrics.macroF1(pred, gold, 3), EPS);
    }

    @Test
    void matthewsKnownExamples() {
        // scikit-learn docs example: y_true [+1,+1,+1,-1], y_pred [+1,-1,+1,+1] → -0.333...
        assertEquals(-1.0 / 3, Metrics.matthews(new int[]{1, 0, 1, 1}, new int[]{1, 1, 1, 0}), EPS);
        // TP 2, TN 2, FP 1, FN 1 → (4 - 1) / sqrt(3·3·3·3) = 1/3
        assertEquals(1.0 / 3, Metrics.matthews(new int[]{1, 0, 1, 0, 0, 1}, new int[]{1, 1, 1, 0, 0, 0}), EPS);
        assertEquals(1.0, Metrics.matthews(new int[]{0, 1, 2, 2}, new int[]{0, 1, 2, 2}), EPS);
        assertEquals(-1.0, Metrics.matthews(new int[]{1, 0, 1, 0}, new int[]{0, 1, 0, 1}), EPS);
        // constant predictor: denominator 0 → 0 by convention
        assertEquals(0.0, Metrics.matthews(new int[]{1, 1, 1, 1}, new int[]{1, 0, 1, 0}), EPS);
    }

    @Test
    void matthewsMatchesTheBinaryFormula() {
        Random r = new Random(3);
        for (int trial = 0; trial < 50; trial++) {
            int n = 20 + r.nextInt(200);
            int[] p = new int[n];
            int[] g = new int[n];
            long tp = 0, tn = 0, fp = 0, fn = 0;
            for (int i = 0; i < n; i++) {
                p[i] = r.nextInt(2);
                g[i] = r.nextDouble() < 0.7 ? p[i] : 1 - p[i];
                if (p[i] == 1 && g[i] == 1) tp++;
                else if (p[i] == 0 && g[i] == 0) tn++;
                else if (p[i] == 1) fp++;
                else fn++;
            }
            double den = Math.sqrt((double) (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
            double expected = den == 0 ? 0 : (tp * tn - fp * fn) / den;
            assertEquals(expected, Metrics.matthews(p, g), 1e-12);
        }
    }

    @Test
    void pearsonAndSpearmanByHand() {
        float[] x = {1, 2, 3, 4, 5};
        float[] y = {2, 4, 5, 4, 5};
        // centred x -2..2, y -2,0,1,0,1: Sxy 6, Sxx 10, Syy 6
        assertEquals(6 / Math.sqrt(60), Metrics.pearson(x, y), EPS);
        // ranks of y with ties averaged: 1, 2.5, 4.5, 2.5, 4.5 → Sxy 7, Syy 9
        assertArrayEquals(new double[]{1, 2.5, 4.5, 2.5, 4.5}, Metrics.ranks(y), EPS);
        assertEquals(7 / Math.sqrt(90), Metrics.spearman(x, y), EPS);
        assertArrayEquals(new double[]{1, 2.5, 2.5, 4}, Metrics.ranks(new float[]{10, 20, 20, 30}), EPS);
        // monotone but non-linear: Spearman 1, Pearson < 1
        float[] cube = {1, 8, 27, 64, 125};
        assertEquals(1.0, Metrics.spearman(x, cube), EPS);
        assertTrue(Metrics.pearson(x, cube) < 0.99);
        // zero variance → 0 by convention
        assertEquals(0.0, Metrics.pearson(new float[]{3, 3, 3}, new float[]{1, 2, 3}), EPS);
        assertEquals(0.0, Metrics.spearman(new float[]{1, 2, 3}, new float[]{2, 2, 2}), EPS);
    }

    @Test
    void mismatchedOrEmptyInputsThrow() {
        assertThrows(IllegalArgumentException.class, () -> Metrics.accuracy(new int[]{1}, new int[]{1, 0}));
        assertThrows(IllegalArgumentException.class, () -> Metrics.pearson(new float[0], new float[0]));
        assertThrows(IllegalArgumentException.class, () -> Metrics.ranks(new float[]{1, Float.NaN}));
    }

    @Test
    void taskMetricUsesEachTasksHeadline() {
        int[] gold = {1, 1, 1, 0, 0, 0};
        int[] pred = {1, 0, 1, 0, 0, 1};
        TaskMetric.Result mrpc = TaskMetric.classification(Tasks.MRPC, pred, gold);
        assertEquals(Task.Metric.F1, mrpc.headlineMetric());
        assertEquals(4.0 / 6, mrpc.headline(), EPS);
        assertEquals(List.of("f1", "accuracy"), List.copyOf(mrpc.asMap().keySet()));
        assertEquals("MRPC n=6 f1=0.6667 accuracy=0.6667", mrpc.format());

        TaskMetric.Result cola = TaskMetric.classification(Tasks.COLA, pred, gold);
        assertEquals(1.0 / 3, cola.headline(), EPS);
        assertEquals(1.0 / 3, cola.values().get(Task.Metric.MATTHEWS), EPS);

        List<Example> sts = List.of(Example.scored("a", "b", 1, "s:1"), Example.scored("a", "b", 2, "s:2"),
                Example.scored("a", "b", 3, "s:3"), Example.scored("a", "b", 4, "s:4"), Example.scored("a", "b", 5, "s:5"));
        TaskMetric.Result stsb = TaskMetric.evaluate(Tasks.STSB, new float[]{2, 4, 5, 4, 5}, sts);
        Map<String, Double> all = stsb.asMap();
        assertEquals(6 / Math.sqrt(60), stsb.headline(), EPS);
        assertEquals(7 / Math.sqrt(90), all.get("spearman"), EPS);

        assertThrows(IllegalArgumentException.class, () -> TaskMetric.classification(Tasks.SST2, new int[]{2}, new int[]{1}));
        assertThrows(IllegalArgumentException.class, () -> TaskMetric.classification(Tasks.STSB, pred, gold));
        assertThrows(IllegalArgumentException.class, () -> TaskMetric.evaluate(Tasks.SST2, pred, sts.subList(0, 1)));
    }
}
