package dev.offramp.cli;

import dev.offramp.training.TrainingProgress;

/** Draws the core's progress reports as progress bars on stderr; kept lines go to stderr too. */
final class BarProgress implements TrainingProgress {
    private Progress bar;

    @Override
    public void stage(String name, long total, String unit) {
        endStage();
        bar = new Progress(name, total, unit);
    }

    @Override
    public void advance(long done) {
        if (bar != null) bar.stepTo(done);
    }

    @Override
    public void status(String text) {
        if (bar != null) bar.extra(text);
    }

    @Override
    public void endStage() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    @Override
    public void log(String line) {
        System.err.println(line);
    }
}
