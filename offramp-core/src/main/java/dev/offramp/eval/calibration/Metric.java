package dev.offramp.eval.calibration;

/**
 * A task metric over one simulated evaluation: {@code predicted[n]} is the class index (as a float) or the
 * regression score, {@code gold[n]} the label. Values are in the metric's natural unit: accuracy and F1 as a
 * fraction in [0, 1], MCC and Pearson in [−1, 1]. Higher must be better. Plug in the task's GLUE metric; the
 * calibration code only compares values.
 */
@FunctionalInterface
public interface Metric {
    double evaluate(float[] predicted, float[] gold);

    /** Fraction of predictions equal to the gold label. */
    Metric ACCURACY = (predicted, gold) -> {
        int correct = 0;
        for (int n = 0; n < predicted.length; n++) {
            if (predicted[n] == gold[n]) correct++;
        }
        return (double) correct / predicted.length;
    };
}
