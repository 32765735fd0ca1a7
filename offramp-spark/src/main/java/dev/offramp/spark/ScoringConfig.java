package dev.offramp.spark;

import dev.offramp.data.TsvTaskSpec;

import java.io.Serializable;

/**
 * Everything an executor needs to score rows, as one small serializable value (it travels in the task closure).
 *
 * @param modelPath   the model folder: a path every executor can read (shared storage, or the working directory's
 *                    copy from {@code --archives}), or {@code sparkfiles:NAME} for a folder shipped with
 *                    {@code SparkContext.addFile(dir, true)}
 * @param policy      the calibrated exit criterion to use, or {@code full}
 * @param maxDrop     the calibration target the criterion was calibrated for
 * @param engine      what runs the batches
 * @param truncate    cut texts over the model's token limit instead of flagging them
 * @param batchSize   rows per engine batch
 * @param textCleaning {@code none} or {@code html}, applied to every text before it is tokenized (the model was
 *                     trained on cleaned text: use what {@code train --clean} used)
 */
public record ScoringConfig(String modelPath, String policy, double maxDrop, Engine engine, boolean truncate, int batchSize,
                            String textCleaning) implements Serializable {
    public ScoringConfig {
        if (modelPath == null || modelPath.isBlank()) throw new IllegalArgumentException("modelPath is not set: name the model folder");
        if (policy == null || policy.isBlank()) throw new IllegalArgumentException("policy is not set (e.g. beem-a, max-prob or full)");
        if (!(maxDrop >= 0) || Double.isInfinite(maxDrop)) throw new IllegalArgumentException("maxDrop must be >= 0, got " + maxDrop);
        if (engine == null) throw new IllegalArgumentException("engine is not set");
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        TsvTaskSpec.cleaner(textCleaning);  // names the known cleanings when this one is not
    }

    /** The key a loaded model is shared under in an executor: what changes the loaded model, not how rows are fed. */
    record ModelKey(String resolvedPath, String policy, double maxDrop, Engine engine) {}

    ModelKey modelKey(String resolvedPath) {
        // ONNX Runtime always runs at full depth: every policy shares one loaded model
        return engine == Engine.ONNXRUNTIME ? new ModelKey(resolvedPath, "full", 0, engine)
                : new ModelKey(resolvedPath, policy, maxDrop, engine);
    }
}
