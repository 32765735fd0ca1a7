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

    /** A per-exit metric for a log line: "0.812 0.845 …" (NaN for exits not trained). */
    static String perExit(double[] v) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < v.length; i++) b.append(i == 0 ? "" : " ").append(String.format(java.util.Locale.ROOT, "%.3f", v[i]));
        return b.toString();
    }
}
