package dev.offramp.spark.cli;

import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.SparkStatusTracker;
import org.apache.spark.sql.SparkSession;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * A progress bar on stderr fed by Spark's status tracker: the tasks of every stage of the job group the action runs
 * in (done, running, total), redrawn twice a second while the action runs on the calling thread.
 */
final class JobProgress {
    private static final int WIDTH = 30;

    private JobProgress() {}

    private static final java.util.concurrent.atomic.AtomicInteger RUNS = new java.util.concurrent.atomic.AtomicInteger();

    /** Runs {@code action} in a job group of its own (its jobs are the ones counted) and draws their progress. */
    static <T> T run(SparkSession spark, String label, Callable<T> action) throws Exception {
        String group = "offramp-" + label.replace(' ', '-') + "-" + RUNS.incrementAndGet();
        SparkStatusTracker tracker = spark.sparkContext().statusTracker();
        PrintStream err = System.err;
        long t0 = System.nanoTime();
        Thread drawer = Thread.ofPlatform().daemon().name("offramp-progress").start(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(500);
                    err.print("\r" + line(tracker, group, label, t0));
                    err.flush();
                }
            } catch (InterruptedException done) {
                // the action finished
            }
        });
        spark.sparkContext().setJobGroup(group, label, false);
        boolean ok = false;
        try {
            T result = action.call();
            ok = true;
            return result;
        } finally {
            spark.sparkContext().clearJobGroup();
            drawer.interrupt();
            drawer.join();
            // the tracker hears of the last tasks a moment after the action returns: say done, not a stale count
            long s = (System.nanoTime() - t0) / 1_000_000_000L;
            err.println("\r" + (ok ? String.format(Locale.ROOT, "%s [%s] done in %d:%02d:%02d", label, "=".repeat(WIDTH), s / 3600, s / 60 % 60, s % 60)
                    : line(tracker, group, label, t0) + " failed") + " ".repeat(20));
        }
    }

    /** One drawing of the bar: {@code label [=====>    ] 12/32 tasks, 2 running, 0:01:23}. */
    static String line(SparkStatusTracker tracker, String group, String label, long t0) {
        int total = 0, done = 0, running = 0;
        for (int job : tracker.getJobIdsForGroup(group)) {
            var jo = tracker.getJobInfo(job);
            if (jo.isEmpty()) continue;
            SparkJobInfo j = jo.get();
            for (int stage : j.stageIds()) {
                var so = tracker.getStageInfo(stage);
                if (so.isEmpty()) continue;
                SparkStageInfo s = so.get();
                total += s.numTasks();
                done += s.numCompletedTasks();
                running += s.numActiveTasks();
            }
        }
        return bar(label, done, running, total, (System.nanoTime() - t0) / 1_000_000_000L);
    }

    static String bar(String label, int done, int running, int total, long seconds) {
        int filled = total == 0 ? 0 : (int) ((long) WIDTH * done / total);
        char[] bar = " ".repeat(WIDTH).toCharArray();
        for (int i = 0; i < filled; i++) bar[i] = '=';
        if (filled < WIDTH && total > 0) bar[filled] = '>';
        return String.format(Locale.ROOT, "%s [%s] %d/%d tasks, %d running, %d:%02d:%02d  ", label, new String(bar), done,
                total, running, seconds / 3600, seconds / 60 % 60, seconds % 60);
    }
}
