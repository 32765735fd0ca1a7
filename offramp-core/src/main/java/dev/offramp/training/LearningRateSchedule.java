package dev.offramp.training;

/**
 * Linear warm-up from 0 to the peak over warmupSteps, then linear decay to 0 at totalSteps
 * (Hugging Face's get_linear_schedule_with_warmup, the usual BERT fine-tuning schedule).
 */
public record LearningRateSchedule(double peak, int warmupSteps, int totalSteps) {
    public LearningRateSchedule {
        if (!(peak > 0)) throw new IllegalArgumentException("peak learning rate must be positive, got " + peak);
        if (warmupSteps < 0 || totalSteps <= 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("need 0 <= warmupSteps <= totalSteps and totalSteps > 0, got warmup "
                    + warmupSteps + ", total " + totalSteps);
        }
    }

    /** The learning rate for step (0-based; as in Hugging Face, step 0 of a warm-up gets 0). */
    public double at(int step) {
        if (step < warmupSteps) return peak * step / Math.max(1, warmupSteps);
        return peak * Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
    }
}
