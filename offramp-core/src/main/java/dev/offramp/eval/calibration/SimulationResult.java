package dev.offramp.eval.calibration;

/**
 * One criterion replayed over an {@link ExitOutputs} cache.
 *
 * @param criterion     the criterion's describe()
 * @param numLayers     L
 * @param exitLayers    (N) the layer each sample left at, 1..L
 * @param predictions   (N) class index (as a float) or regression score at that exit
 * @param confidences   (N) max probability at that exit; NaN for regression
 * @param metric        the task metric of {@code predictions} (natural unit, e.g. accuracy in [0, 1])
 * @param meanLayers    mean number of layers executed
 * @param layerSpeedup  L / meanLayers
 */
public record SimulationResult(String criterion, int numLayers, int[] exitLayers, float[] predictions,
                               float[] confidences, double metric, double meanLayers, double layerSpeedup) {

    /** How many samples left at each exit, index i−1 for exit i. */
    public int[] exitCounts() {
        int[] counts = new int[numLayers];
        for (int layer : exitLayers) counts[layer - 1]++;
        return counts;
    }
}
