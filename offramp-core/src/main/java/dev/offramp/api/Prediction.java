package dev.offramp.api;

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
                         float confidence) {}
