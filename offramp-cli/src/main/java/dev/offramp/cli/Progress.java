package dev.offramp.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.util.function.IntConsumer;

/** Progress bars on stderr for anything that takes more than a few seconds. */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;

    private static final boolean TERMINAL = System.console() != null && System.console().isTerminal();

    Progress(String task, long total, String unit) {
        bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" " + unit, 1)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(TERMINAL ? 500 : 30_000).showSpeed()
                .continuousUpdate().setConsumer(consumer()).build();
    }

    /**
     * On a terminal the bar redraws itself in place twice a second, fitted to the width. Redirected to a log, each
     * redraw would be another 160 characters glued to the last by a carriage return (an 85-minute training epoch
     * left megabytes of them), so a log gets one whole line every 30 seconds and the last state at the end; wide,
     * because there is no width to ask for and the library's fallback cut off the status text (loss, tokens/s).
     */
    private static me.tongfei.progressbar.ProgressBarConsumer consumer() {
        return TERMINAL ? new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err)
                : new me.tongfei.progressbar.DelegatingProgressBarConsumer(new LogLines(), 160);
    }

    /** Prints each rendering as a line, skipping one equal to the line before (closing renders the end twice). */
    private static final class LogLines implements java.util.function.Consumer<String> {
        private String last;

        @Override
        public void accept(String line) {
            if (!line.equals(last)) System.err.println(line);
            last = line;
        }
    }

    void stepTo(long n) {
        bar.stepTo(n);
    }

    void extra(String message) {
        bar.setExtraMessage(" " + message);  // the library puts it right after the speed's unit
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
