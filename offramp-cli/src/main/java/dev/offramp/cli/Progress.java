package dev.offramp.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.util.function.IntConsumer;

/** Progress bars on stderr for anything that takes more than a few seconds. */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;

    Progress(String task, long total, String unit) {
        bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" " + unit, 1)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).showSpeed()
                .continuousUpdate().setConsumer(consumer()).build();
    }

    /**
     * On a terminal the bar fits its width; redirected to a log there is no width to ask for and the library's
     * fallback cut off the status text (loss, tokens/s), so a log gets wide lines.
     */
    private static me.tongfei.progressbar.ConsoleProgressBarConsumer consumer() {
        return System.console() != null && System.console().isTerminal()
                ? new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err)
                : new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err, 160);
    }

    void stepTo(long n) {
        bar.stepTo(n);
    }

    void extra(String message) {
        bar.setExtraMessage(message);
    }

    /** A consumer of "done so far" counts feeding this bar. */
    IntConsumer counter() {
        return this::stepTo;
    }

    @Override
    public void close() {
        bar.close();
    }
}
