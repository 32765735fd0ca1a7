package dev.offramp.eval;

import dev.offramp.data.Example;
import dev.offramp.data.Task;
import dev.offramp.data.Task.Metric;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Scores predictions the way a task is reported: every metric of the task, headline first (accuracy for
 * SST-2/QNLI/RTE/WNLI, F1 for MRPC, Matthews for CoLA, Pearson for STS-B).
 */
public final class TaskMetric {

    /**
     * The scores of one evaluation.
     *
     * @param task     the task scored
     * @param count    number of examples scored
     * @param values   every metric of the task, in the task's order (headline first)
     */
    public record Result(Task task, int count, Map<Metric, Double> values) {
        public Result {
            values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        }

        public Metric headlineMetric() {
            return task.headline();
        }

        public double headline() {
            return values.get(task.headline());
        }

        /** Metric key → value, in task order, for printing or JSON. */
        public Map<String, Double> asMap() {
            Map<String, Double> out = new LinkedHashMap<>();
            values.forEach((m, v) -> out.put(m.key(), v));
            return out;
        }

        /** e.g. {@code MRPC n=408 f1=0.8912 accuracy=0.8505}. */
        public String format() {
            StringBuilder sb = new StringBuilder(task.displayName()).append(" n=").append(count);
            values.forEach((m, v) -> sb.append(' ').append(m.key()).append('=')
                    .append(String.format(Locale.ROOT, "%.4f", v)));
            return sb.toString();
        }
    }

    private TaskMetric() {
    }

    /** Scores class predictions of a classification task. */
    public static Result classification(Task task, int[] predicted, int[] gold) {
        if (task.isRegression()) {
            throw new IllegalArgumentException(task.displayName() + " is a regression task; pass float scores");
        }
        int k = task.numLabels();
        for (int i = 0; i < predicted.length; i++) {
            if (predicted[i] < 0 || predicted[i] >= k) {
                throw new IllegalArgumentException("prediction " + predicted[i] + " at index " + i
                        + " is not a " + task.displayName() + " class (0.." + (k - 1) + ")");
            }
        }
        Map<Metric, Double> values = new LinkedHashMap<>();
        for (Metric m : task.metrics()) {
            values.put(m, switch (m) {
                case ACCURACY -> Metrics.accuracy(predicted, gold);
                case F1 -> Metrics.f1(predicted, gold);
                case MACRO_F1 -> Metrics.macroF1(predicted, gold, k);
                case MATTHEWS -> Metrics.matthews(predicted, gold);
                case PEARSON, SPEARMAN -> throw new IllegalStateException(m + " on a classification task");
            });
        }
        return new Result(task, gold.length, values);
    }

    /** Scores predicted values of a regression task. */
    public static Result regression(Task task, float[] predicted, float[] gold) {
        if (!task.isRegression()) {
            throw new IllegalArgumentException(task.displayName() + " is a classification task; pass class ids");
        }
        Map<Metric, Double> values = new LinkedHashMap<>();
        for (Metric m : task.metrics()) {
            values.put(m, switch (m) {
                case PEARSON -> Metrics.pearson(predicted, gold);
                case SPEARMAN -> Metrics.spearman(predicted, gold);
                case ACCURACY, F1, MACRO_F1, MATTHEWS -> throw new IllegalStateException(m + " on a regression task");
            });
        }
        return new Result(task, gold.length, values);
    }

    /** Scores class predictions against the examples' labels (same order). */
    public static Result evaluate(Task task, int[] predicted, List<Example> gold) {
        return classification(task, predicted, goldLabels(gold));
    }

    /** Scores predicted values against the examples' scores (same order). */
    public static Result evaluate(Task task, float[] predicted, List<Example> gold) {
        return regression(task, predicted, goldScores(gold));
    }

    public static int[] goldLabels(List<Example> examples) {
        int[] out = new int[examples.size()];
        for (int i = 0; i < out.length; i++) {
            Example e = examples.get(i);
            if (e.isRegression()) {
                throw new IllegalArgumentException("example " + e.source() + " has a score, not a class label");
            }
            out[i] = e.label();
        }
        return out;
    }

    public static float[] goldScores(List<Example> examples) {
        float[] out = new float[examples.size()];
        for (int i = 0; i < out.length; i++) {
            Example e = examples.get(i);
            if (!e.isRegression()) {
                throw new IllegalArgumentException("example " + e.source() + " has a class label, not a score");
            }
            out[i] = e.score();
        }
        return out;
    }
}
