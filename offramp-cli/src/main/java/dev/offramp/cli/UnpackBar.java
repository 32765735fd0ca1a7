package dev.offramp.cli;

import dev.offramp.weights.UnpackProgress;

/** Draws the one-time unpacking of a model into the cache as a progress bar in megabytes. */
final class UnpackBar implements UnpackProgress {
    private Progress bar;

    @Override
    public void update(String what, long doneBytes, long totalBytes) {
        long mb = doneBytes >> 20, totalMb = Math.max(1, (totalBytes < 0 ? doneBytes : totalBytes) >> 20);
        if (bar == null) bar = new Progress("unpacking " + what, totalMb, "MB");
        bar.stepTo(Math.min(mb, totalMb));
        if (doneBytes >= totalBytes) {
            bar.stepTo(totalMb);
            bar.close();
            bar = null;
        }
    }
}
