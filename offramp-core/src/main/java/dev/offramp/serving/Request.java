package dev.offramp.serving;

import dev.offramp.api.Prediction;
import dev.offramp.criteria.ExitCriterion;
import dev.offramp.tokenizer.Encoding;

import java.util.concurrent.CompletableFuture;

/** One accepted input on its way through a scheduler, with the caller's future. */
final class Request {
    /** Marks "no deadline". */
    static final long NO_DEADLINE = Long.MAX_VALUE;

    final Encoding input;
    final long submittedNanos;
    final long deadlineNanos;
    final CompletableFuture<Prediction> future = new CompletableFuture<>();

    // LayerScheduler only: the sample's own criterion state and its hidden state between layers
    ExitCriterion.Decider decider;
    float[] state;

    Request(Encoding input, long submittedNanos, long deadlineNanos) {
        this.input = input;
        this.submittedNanos = submittedNanos;
        this.deadlineNanos = deadlineNanos;
    }

    boolean late(long now) {
        return deadlineNanos != NO_DEADLINE && now - deadlineNanos > 0;
    }
}
