package dev.offramp.server.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * The heap a long run keeps: samples of the JVM's heap used right after a full collection (System.gc()), so what
 * is counted is what is still referenced, not garbage not yet collected; and the least-squares slope over time of
 * the samples taken under load, which is about 0 when the heap is flat and positive when something accumulates.
 * Samples taken idle (before the load starts, after the last answer) are compared with each other: a sample under
 * load also holds the requests in flight and the batch being computed, some MB that come and go.
 */
public final class HeapSamples {
    /** One sample: minutes since the first one, heap used after a collection in MB, and whether load was running. */
    public record Sample(double minutes, double heapMb, boolean underLoad) {}

    private final List<Sample> samples = new ArrayList<>();
    private long startNanos;

    /** Collects and records the heap now. A stop-the-world full collection: it pauses the server briefly. */
    public synchronized Sample sample(boolean underLoad) {
        System.gc();
        double mb = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024.0 * 1024.0);
        long now = System.nanoTime();
        if (samples.isEmpty()) startNanos = now;
        Sample s = new Sample((now - startNanos) / 60e9, mb, underLoad);
        samples.add(s);
        return s;
    }

    /** Adds a sample measured elsewhere (tests, another JVM's figures). */
    public synchronized void add(Sample s) {
        samples.add(s);
    }

    public synchronized List<Sample> samples() {
        return List.copyOf(samples);
    }

    /** Heap used at the first sample, MB (NaN before any). */
    public synchronized double firstMb() {
        return samples.isEmpty() ? Double.NaN : samples.getFirst().heapMb();
    }

    /** Heap used at the last sample, MB (NaN before any). */
    public synchronized double lastMb() {
        return samples.isEmpty() ? Double.NaN : samples.getLast().heapMb();
    }

    /** The samples taken under load. */
    public synchronized List<Sample> underLoad() {
        return samples.stream().filter(Sample::underLoad).toList();
    }

    /**
     * Least-squares slope of the heap used under load over time, in MB per minute; NaN with fewer than two such
     * samples.
     */
    public synchronized double slopeMbPerMinute() {
        List<Sample> loaded = underLoad();
        int n = loaded.size();
        if (n < 2) return Double.NaN;
        double mx = 0, my = 0;
        for (Sample s : loaded) {
            mx += s.minutes();
            my += s.heapMb();
        }
        mx /= n;
        my /= n;
        double sxy = 0, sxx = 0;
        for (Sample s : loaded) {
            sxy += (s.minutes() - mx) * (s.heapMb() - my);
            sxx += (s.minutes() - mx) * (s.minutes() - mx);
        }
        return sxx == 0 ? Double.NaN : sxy / sxx;
    }
}
