package dev.offramp.serving;

import dev.offramp.api.Prediction;
import dev.offramp.tokenizer.Encoding;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Takes encoded inputs from any number of threads and answers each with a future. Implementations batch across
 * callers: {@link LayerScheduler} (layer-level continuous batching) and {@link DynamicBatcher} (collect, then run
 * the batch to the end).
 */
public interface InferenceScheduler extends AutoCloseable {

    /**
     * Queues one input. The future completes with its prediction, or exceptionally with
     * {@link DeadlineExceededException} when {@code System.nanoTime()} passes {@code deadlineNanos} before it is
     * answered (the input is then dropped from its batch). Never blocks.
     *
     * @throws QueueFullException    at once when the scheduler already holds its capacity of inputs
     * @throws IllegalStateException after {@link #shutdown} began
     */
    CompletableFuture<Prediction> submit(Encoding input, long deadlineNanos);

    /** Inputs accepted and not yet answered (waiting or in a batch). */
    int pending();

    /**
     * Stops accepting and answers every input already accepted; returns true when all were answered within the
     * timeout. Idempotent.
     */
    boolean shutdown(Duration timeout) throws InterruptedException;

    /** Shuts down with a generous timeout. */
    @Override
    default void close() throws InterruptedException {
        shutdown(Duration.ofMinutes(1));
    }
}
