package dev.offramp.kernels;

/**
 * Splits a range of independent work items over the engine's threads.
 * PLACEHOLDER: runs on the caller's thread until the persistent spinning workers land; the API is final.
 */
public final class Parallel {
    private Parallel() {}

    /** Work on items [start, end). Must only touch state owned by those items. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int start, int end);
    }

    /** Number of threads work is split over (the machine's cores by default; -Dofframp.threads=N). */
    public static int threads() {
        return 1;
    }

    /** Runs task over [0, n) split into one contiguous chunk per thread; returns when all are done. */
    public static void forRange(int n, RangeTask task) {
        if (n > 0) task.run(0, n);
    }
}
