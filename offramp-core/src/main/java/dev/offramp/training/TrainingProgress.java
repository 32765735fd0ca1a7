package dev.offramp.training;

/**
 * Where long-running work reports how far it is; the CLI draws progress bars from it, tests pass {@link #NONE}.
 * A stage is one measurable piece of work (feature extraction over N inputs, an epoch over M batches).
 */
public interface TrainingProgress {
    TrainingProgress NONE = new TrainingProgress() {};

    /** A new stage of {@code total} units (inputs, batches, ...). */
    default void stage(String name, long total, String unit) {}

    /** Units done so far in the current stage. */
    default void advance(long done) {}

    /** A short status (loss, throughput) shown beside the bar. */
    default void status(String text) {}

    /** The current stage is finished. */
    default void endStage() {}

    /** A line worth keeping in the log (an epoch's summary). */
    default void log(String line) {}
}
