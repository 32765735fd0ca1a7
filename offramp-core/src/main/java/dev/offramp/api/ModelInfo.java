package dev.offramp.api;

import java.util.List;

/**
 * What a loaded model is, for callers and for a server's model metadata.
 *
 * @param name       the model folder's name
 * @param task       the task it was trained for (e.g. "sst2")
 * @param labels     class names in output order; empty for regression
 * @param regression true when the model predicts one score instead of classes
 * @param layers     the backbone's layers (= exits)
 * @param maxTokens  the most tokens one input (specials included) may have, from the training record
 * @param backbone   the backbone reference (a known model name or a folder path)
 * @param criterion  the exit criterion in words, e.g. {@code beem(...)}; "full depth" for policy full
 * @param policy     the policy name it came from ("beem-a", "full", ...), or the criterion's name when one was
 *                   given explicitly
 */
public record ModelInfo(String name, String task, List<String> labels, boolean regression, int layers, int maxTokens,
                        String backbone, String criterion, String policy) {}
