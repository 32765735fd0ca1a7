package dev.offramp.training;

/**
 * Linear warm-up to the peak over warmupSteps, then cosine decay to minFraction·peak at totalSteps (the usual
 * schedule for training a language model from scratch, as in GPT-3, Llama and llm.c).
 */
public record CosineSchedule(double peak, int warmupSteps, int totalSteps, double minFraction) {
    public CosineSchedule {
        if (!(peak > 0)) throw new IllegalArgumentException("peak learning rate must be positive, got " + peak);
        if (warmupSteps < 0 || totalSteps <= 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("need 0 <= warmupSteps <= totalSteps and totalSteps > 0, got warmup "
                    + warmupSteps + ", total " + totalSteps);
        }
        if (!(minFraction >= 0 && minFraction <= 1)) {
            throw new IllegalArgumentException("minFraction must be in [0, 1], got " + minFraction);
        }
    }

    /** The learning rate of step (0-based): step 0 of a warm-up already moves (peak / warmup), as in llm.c. */
    public double at(int step) {
        if (step < warmupSteps) return peak * (step + 1) / warmupSteps;
        double progress = Math.min(1.0, (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
        double min = peak * minFraction;
        return min + 0.5 * (1 + Math.cos(Math.PI * progress)) * (peak - min);
    }
}
