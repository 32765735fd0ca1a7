package dev.offramp.data;

import java.util.List;
import java.util.Objects;

/**
 * What a task asks for: the input shape, the output classes (or a single regression score), and how it
 * is scored.
 *
 * @param name        short lower-case key ({@code sst2}, {@code mrpc}, {@code imdb}, ...)
 * @param displayName the name used in reports ({@code SST-2}, {@code MRPC}, {@code IMDB})
 * @param kind        one sentence or a sentence pair per example
 * @param labelNames  class names, index = label id; empty for a regression task
 * @param metrics     every metric reported for this task; the first one is the headline metric
 */
public record Task(String name, String displayName, Kind kind, List<String> labelNames, List<Metric> metrics) {

    public enum Kind { SINGLE, PAIR }

    /** The metrics a task can report. Classification metrics take labels, regression ones take scores. */
    public enum Metric {
        ACCURACY("accuracy", false),
        /** binary F1 with class 1 as the positive class (GLUE MRPC convention) */
        F1("f1", false),
        /** unweighted mean of the per-class F1 scores, for tasks with more than two classes */
        MACRO_F1("macro_f1", false),
        /** Matthews correlation coefficient (GLUE CoLA) */
        MATTHEWS("matthews", false),
        PEARSON("pearson", true),
        SPEARMAN("spearman", true);

        private final String key;
        private final boolean regression;

        Metric(String key, boolean regression) {
            this.key = key;
            this.regression = regression;
        }

        /** lower-case name for reports and JSON */
        public String key() {
            return key;
        }

        public boolean isRegression() {
            return regression;
        }
    }

    public Task {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(displayName, "displayName");
        Objects.requireNonNull(kind, "kind");
        labelNames = List.copyOf(labelNames);
        metrics = List.copyOf(metrics);
        if (metrics.isEmpty()) {
            throw new IllegalArgumentException("task " + name + " has no metric");
        }
        boolean regression = labelNames.isEmpty();
        for (Metric m : metrics) {
            if (m.isRegression() != regression) {
                throw new IllegalArgumentException("task " + name + ": metric " + m.key() + " does not fit a "
                        + (regression ? "regression" : "classification") + " task");
            }
        }
        if (labelNames.size() == 1) {
            throw new IllegalArgumentException("task " + name + " has a single class " + labelNames
                    + "; a classification task needs at least two");
        }
        if (metrics.contains(Metric.F1) && labelNames.size() != 2) {
            throw new IllegalArgumentException("task " + name + ": binary F1 needs exactly two classes, has "
                    + labelNames.size());
        }
    }

    /** A regression task has no class names and a single output. */
    public boolean isRegression() {
        return labelNames.isEmpty();
    }

    /** Width of the classifier head: the number of classes, or 1 for regression. */
    public int numLabels() {
        return isRegression() ? 1 : labelNames.size();
    }

    /** The metric the task is ranked by (accuracy for SST-2, Matthews for CoLA, ...). */
    public Metric headline() {
        return metrics.getFirst();
    }

    public boolean isPair() {
        return kind == Kind.PAIR;
    }

    /** The class index of a label name, or -1. */
    public int labelIndex(String labelName) {
        return labelNames.indexOf(labelName);
    }

    /**
     * The usual metrics for a classification task built from data: accuracy first, then F1 and Matthews
     * for two classes, macro-F1 for more.
     */
    public static List<Metric> defaultClassificationMetrics(int numClasses) {
        return numClasses == 2
                ? List.of(Metric.ACCURACY, Metric.F1, Metric.MATTHEWS)
                : List.of(Metric.ACCURACY, Metric.MACRO_F1);
    }

    /** The usual metrics for a regression task: Pearson first, then Spearman (STS-B convention). */
    public static List<Metric> defaultRegressionMetrics() {
        return List.of(Metric.PEARSON, Metric.SPEARMAN);
    }
}
