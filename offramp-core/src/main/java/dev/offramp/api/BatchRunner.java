package dev.offramp.api;

import dev.offramp.tokenizer.Encoding;

import java.util.List;

/**
 * Runs one batch of inputs to the end, as {@code dev.offramp.serving.DynamicBatcher} needs: Offramp early exit with compaction,
 * Offramp at full depth, or another engine (ONNX Runtime) at full depth. Called from one thread at a time.
 */
@FunctionalInterface
public interface BatchRunner {
    /** One prediction per input, in input order. */
    Prediction[] run(List<Encoding> inputs);
}
