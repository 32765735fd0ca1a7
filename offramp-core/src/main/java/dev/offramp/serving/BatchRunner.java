package dev.offramp.serving;

import dev.offramp.api.Prediction;
import dev.offramp.tokenizer.Encoding;

import java.util.List;

/**
 * Runs one batch of inputs to the end, as {@link DynamicBatcher} needs: Offramp early exit with compaction,
 * Offramp at full depth, or another engine (ONNX Runtime) at full depth. Called from one thread at a time.
 */
@FunctionalInterface
public interface BatchRunner {
    /** One prediction per input, in input order. */
    Prediction[] run(List<Encoding> inputs);
}
