package dev.offramp.exits;

import java.util.List;

/**
 * The task the exits were trained for.
 *
 * @param name       e.g. "sst2"
 * @param labels     class names in output order; empty for regression
 * @param regression true: one output, a score (STS-B); trained with MSE
 */
public record ExitTask(String name, List<String> labels, boolean regression) {
    public ExitTask {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("task name must be set");
        labels = List.copyOf(labels);
        if (!regression && labels.size() < 2) {
            throw new IllegalArgumentException("classification task '" + name + "' needs at least 2 labels, got " + labels);
        }
    }

    public static ExitTask classification(String name, List<String> labels) {
        return new ExitTask(name, labels, false);
    }

    /** The exits' view of a data-set task. */
    public static ExitTask of(dev.offramp.data.Task task) {
        return new ExitTask(task.name(), task.labelNames(), task.isRegression());
    }

    public static ExitTask regression(String name) {
        return new ExitTask(name, List.of(), true);
    }

    /** K: the width of every exit's output (1 for regression). */
    public int outputs() {
        return regression ? 1 : labels.size();
    }
}
