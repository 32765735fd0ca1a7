package dev.offramp.data;

import java.util.List;

/**
 * A task with its training and evaluation examples.
 *
 * @param task  what the labels mean and how predictions are scored
 * @param train training examples
 * @param dev   evaluation examples
 * @param note  where dev came from, for reports (e.g. "dev = test.tsv" or "dev carved 20% from train, seed 42")
 */
public record TaskData(Task task, List<Example> train, List<Example> dev, String note) {
    public TaskData {
        train = List.copyOf(train);
        dev = List.copyOf(dev);
    }

    /** The training examples; an error naming the task when it has none here (QNLI: dev only). */
    public List<Example> requireTrain() {
        if (train.isEmpty()) {
            throw new IllegalStateException(task.displayName() + " has no training examples here (" + note + ")");
        }
        return train;
    }
}
