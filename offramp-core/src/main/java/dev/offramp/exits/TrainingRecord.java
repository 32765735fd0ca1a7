package dev.offramp.exits;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * How a multi-exit model was trained, saved in its config.json so a result can be traced to its run.
 *
 * @param mode           "frozen" (heads on a frozen backbone), "joint", "two-stage", "consistentee", …
 * @param epochs         epochs run
 * @param learningRate   peak learning rate of the exits
 * @param seed           the run's seed
 * @param wallSeconds    wall time of the training, feature extraction included
 * @param metric         name of the dev metric below ("accuracy", "mse", …)
 * @param devMetrics     that metric for each exit, exit i at i − 1, on the validation split
 * @param options        every other setting of the run (batch size, dropout, best epoch, …); may be null
 */
public record TrainingRecord(String mode, int epochs, double learningRate, long seed, double wallSeconds,
                             String metric, double[] devMetrics, JsonNode options) {
}
