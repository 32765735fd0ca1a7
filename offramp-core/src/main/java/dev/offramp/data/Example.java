package dev.offramp.data;

import java.util.Objects;

/**
 * One labelled example.
 *
 * @param textA  the sentence (single-sentence tasks) or the first sentence of a pair
 * @param textB  the second sentence of a pair; {@code null} for single-sentence tasks
 * @param label  class index into {@link Task#labelNames()}; {@link #NO_LABEL} for regression examples
 * @param score  the regression target (STS-B 0–5); {@link Float#NaN} for classification examples
 * @param source where it came from, {@code file:line}, so any odd prediction can be traced to its row
 */
public record Example(String textA, String textB, int label, float score, String source) {

    /** The {@link #label()} of a regression example. */
    public static final int NO_LABEL = -1;

    public Example {
        Objects.requireNonNull(textA, "textA");
        if (label < NO_LABEL) {
            throw new IllegalArgumentException("label must be >= 0 (or NO_LABEL for regression), got " + label
                    + " at " + source);
        }
        if (label == NO_LABEL && Float.isNaN(score)) {
            throw new IllegalArgumentException("an example needs a class label or a score: " + source);
        }
    }

    /** A single-sentence classification example. */
    public static Example single(String text, int label, String source) {
        return new Example(text, null, label, Float.NaN, source);
    }

    /** A sentence-pair classification example. */
    public static Example pair(String textA, String textB, int label, String source) {
        return new Example(textA, textB, label, Float.NaN, source);
    }

    /** A regression example (single sentence when {@code textB} is null). */
    public static Example scored(String textA, String textB, float score, String source) {
        return new Example(textA, textB, NO_LABEL, score, source);
    }

    public boolean isPair() {
        return textB != null;
    }

    public boolean isRegression() {
        return label == NO_LABEL;
    }
}
