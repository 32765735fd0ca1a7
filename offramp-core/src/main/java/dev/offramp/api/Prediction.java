package dev.offramp.api;

import dev.offramp.inference.EarlyExitRunner;

import java.util.Arrays;
import java.util.List;

/**
 * What one input got from an early-exit model.
 *
 * @param label         the predicted class's name; null for a regression task
 * @param labelIndex    the predicted class's index; -1 for a regression task
 * @param probabilities the exit's class probabilities (length = number of classes); for regression, {score}
 * @param score         the predicted class's probability, or the regression score
 * @param exitLayer     the layer (1-based) whose exit answered
 * @param layers        the backbone's number of layers (exitLayer == layers: no layer saved)
 * @param confidence    what the criterion last compared (max-prob's c, BEEM's S, ...), NaN at full depth
 */
public record Prediction(String label, int labelIndex, float[] probabilities, float score, int exitLayer, int layers,
                         float confidence) {

    /** The prediction for a runner's result; {@code labels} are the task's class names (empty for regression). */
    public static Prediction of(EarlyExitRunner.Result r, List<String> labels, int layers) {
        // the runner already picked the class (same tie rule) and copied the output: no second argmax or copy
        return new Prediction(r.label() < 0 ? null : labels.get(r.label()), r.label(), r.output(), r.score(), r.exitLayer(),
                layers, r.confidence());
    }

    /**
     * The prediction for an exit's output {@code out[off .. off+k)} (copied): argmax with ties to the lowest
     * index, as the runner and the criteria break them; k == 1 is a regression score.
     */
    public static Prediction of(float[] out, int off, int k, int exitLayer, int layers, float confidence,
                                List<String> labels) {
        float[] p = Arrays.copyOfRange(out, off, off + k);
        if (k == 1) return new Prediction(null, -1, p, p[0], exitLayer, layers, confidence);
        int best = 0;
        for (int c = 1; c < k; c++) if (p[c] > p[best]) best = c;
        return new Prediction(labels.get(best), best, p, p[best], exitLayer, layers, confidence);
    }
}
