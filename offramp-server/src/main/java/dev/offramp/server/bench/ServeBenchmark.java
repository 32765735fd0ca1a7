package dev.offramp.server.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offramp.data.Datasets;
import dev.offramp.data.Example;
import dev.offramp.data.GlueLoader;
import dev.offramp.data.Tasks;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.server.OfframpServer;
import dev.offramp.server.ServerConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The server under load ({@code ./offramp bench serve}): for each server of the comparison, started one after
 * another on loopback (never two at once, so each has the machine's cores), with the same inputs over the same
 * HTTP front end:
 * <ol>
 *   <li>a warm-up (JIT, caches), not reported;</li>
 *   <li>a closed-loop ramp, 1, 2, 4, ... clients, until throughput stops rising by more than
 *       {@link Settings#minRise()} ({@link Settings#patience()} levels in a row): the best throughput is the
 *       server's saturation, the 1-client phase its unloaded latency;</li>
 *   <li>open-loop Poisson arrivals at {@link Settings#loadShares()} (25 %, 50 %, 80 %) of that saturation.</li>
 * </ol>
 * The server runs in this JVM: client and server share the machine's cores the same way for every server
 * compared. {@link #soak} runs one server's ramp, then an open loop at 80 % for a long time, sampling the heap.
 */
public final class ServeBenchmark {
    /** The comparison's servers, by the names {@link #closingLines} looks for. */
    public static final String EARLY_EXIT = "early-exit", EARLY_EXIT_DYNAMIC = "early-exit-dynamic",
            FULL_DEPTH = "full-depth", FULL_DEPTH_DYNAMIC = "full-depth-dynamic", ONNXRUNTIME = "onnxruntime";

    /**
     * How long and how hard to load.
     *
     * @param phase          each measured phase's sending window
     * @param warmup         the unreported warm-up's length: the first half with 1 client (single-input steps, what
     *                       the ramp's first level runs), the second with {@code warmupClients} (larger batches)
     * @param warmupClients  the warm-up's closed-loop clients in its second half
     * @param warmupMax      the warm-up goes on past {@code warmup}, in 2 s windows alternating 1 and
     *                       {@code warmupClients} clients, while the JIT still compiles (more than 5 % of a window's
     *                       time spent compiling), up to this total: the servers share this JVM's compiled code, so an
     *                       unfinished JIT would handicap whichever server goes first
     * @param maxConcurrency the ramp's last level
     * @param minRise        a ramp level "rises" when its throughput beats the best so far by more than this fraction
     * @param patience       the ramp stops after this many levels in a row that did not rise (1: at the first one;
     *                       2 by default, so one level slowed by something else on a shared machine does not end it)
     * @param loadShares     the open-loop rates as fractions of saturation
     * @param grace          how long after a phase an answer may still come before its request counts as lost
     */
    public record Settings(Duration phase, Duration warmup, int warmupClients, Duration warmupMax, int maxConcurrency,
                           double minRise, int patience, List<Double> loadShares, Duration grace) {
        public Settings {
            positive("phase", phase);
            positive("warm-up", warmup);
            if (warmupMax.compareTo(warmup) < 0) throw new IllegalArgumentException("the longest warm-up (" + warmupMax
                    + ") is shorter than the warm-up (" + warmup + ")");
            if (warmupClients < 1) throw new IllegalArgumentException("warm-up clients must be >= 1, got " + warmupClients);
            if (maxConcurrency < 1) throw new IllegalArgumentException("max concurrency must be >= 1, got " + maxConcurrency);
            if (!(minRise >= 0)) throw new IllegalArgumentException("min rise must be >= 0, got " + minRise);
            if (patience < 1) throw new IllegalArgumentException("ramp patience must be >= 1 level, got " + patience);
            loadShares = List.copyOf(loadShares);
            for (double s : loadShares) {
                if (!(s > 0 && s <= 1)) throw new IllegalArgumentException("load shares must be in (0, 1], got " + s);
            }
            if (grace.isNegative()) throw new IllegalArgumentException("grace must be >= 0, got " + grace);
        }

        private static void positive(String what, Duration d) {
            if (d.isNegative() || d.isZero()) throw new IllegalArgumentException(what + " must be longer than 0, got " + d);
        }

        /**
         * 10 s phases; 8 s warm-up (1, then 4 clients: a fresh JVM's first requests take 10-100x longer), longer
         * while the JIT is busy, up to 60 s; ramp to 256 clients until 2 levels in a row rose by 5 % or less; open
         * loop at 25/50/80 %; 30 s grace.
         */
        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(10), Duration.ofSeconds(8), 4, Duration.ofSeconds(60), 256, 0.05, 2,
                    List.of(0.25, 0.5, 0.8), Duration.ofSeconds(30));
        }

        public Settings withPhase(Duration d) { return new Settings(d, warmup, warmupClients, warmupMax, maxConcurrency, minRise, patience, loadShares, grace); }

        /** The warm-up and its longest extension (the latter raised to the former when shorter). */
        public Settings withWarmup(Duration d, Duration max) { return new Settings(phase, d, warmupClients, max.compareTo(d) < 0 ? d : max, maxConcurrency, minRise, patience, loadShares, grace); }

        public Settings withMaxConcurrency(int c) { return new Settings(phase, warmup, warmupClients, warmupMax, c, minRise, patience, loadShares, grace); }

        public Settings withPatience(int levels) { return new Settings(phase, warmup, warmupClients, warmupMax, maxConcurrency, minRise, levels, loadShares, grace); }

        public Settings withGrace(Duration d) { return new Settings(phase, warmup, warmupClients, warmupMax, maxConcurrency, minRise, patience, loadShares, d); }
    }

    /** One server of the comparison: a name, what it is, and its config (the port is replaced by 0). */
    public record Variant(String name, String description, ServerConfig config) {}

    /** Starts a server; {@link OfframpServer#start(ServerConfig)} unless a test builds its own. */
    @FunctionalInterface
    public interface Starter {
        OfframpServer start(ServerConfig config) throws IOException;
    }

    /**
     * One server's run.
     *
     * @param note       how the server said it answers (engine, criterion, batcher)
     * @param warmup     the unreported warm-up phases (their errors and losses still count)
     * @param ramp       the closed-loop levels, in order
     * @param saturation the ramp level with the highest throughput
     * @param open       the open-loop phases, in the order of {@link Settings#loadShares()}
     */
    public record ServerRun(Variant variant, String note, List<PhaseResult> warmup, List<PhaseResult> ramp,
                            PhaseResult saturation, List<PhaseResult> open) {
        public double saturationRps() {
            return saturation.rps();
        }

        /** The 1-client phase's median latency: one request at a time. */
        public double unloadedP50Ms() {
            return ramp.getFirst().p50Ms();
        }

        /** The open-loop phase at this share of saturation, or null when it was not run. */
        public PhaseResult openAt(double share) {
            for (PhaseResult r : open) if (r.phase().equals(openName(share))) return r;
            return null;
        }

        public List<PhaseResult> phases() {
            List<PhaseResult> all = new ArrayList<>();
            all.addAll(warmup);
            all.addAll(ramp);
            all.addAll(open);
            return all;
        }

        public long errors() {
            return phases().stream().mapToLong(PhaseResult::errors).sum();
        }

        public long lost() {
            return phases().stream().mapToLong(PhaseResult::lost).sum();
        }

        public long duplicates() {
            return phases().stream().mapToLong(PhaseResult::duplicates).sum();
        }
    }

    /** A soak: the server's ramp, the long open-loop phase and the heap samples taken during it. */
    public record SoakRun(ServerRun ramp, PhaseResult soak, HeapSamples heap) {}

    private final Settings settings;
    private final List<LoadGenerator.Input> inputs;
    private final Starter starter;
    private final PrintStream out;
    private final Consumer<String> progress;

    /**
     * @param inputs   what to send, one per request, cycled
     * @param out      where the tables go
     * @param progress where progress lines go (stderr for the command)
     */
    public ServeBenchmark(Settings settings, List<LoadGenerator.Input> inputs, Starter starter, PrintStream out,
                          Consumer<String> progress) {
        if (inputs.isEmpty()) throw new IllegalArgumentException("the benchmark needs at least one input");
        this.settings = settings;
        this.inputs = List.copyOf(inputs);
        this.starter = starter;
        this.out = out;
        this.progress = progress;
    }

    /** Starts the variant's server, loads it (warm-up, ramp, open loop), prints its table, stops it. */
    public ServerRun run(Variant v) throws IOException, InterruptedException {
        progress.accept("[" + v.name() + "] starting: " + v.description());
        try (OfframpServer server = starter.start(v.config().withPort(0));
             LoadGenerator load = new LoadGenerator(server.url(), inputs, settings.grace())) {
            ServerRun run = load(v, server, load);
            for (double share : settings.loadShares()) {
                double rps = share * run.saturationRps();
                if (!(rps > 0)) {
                    throw new IllegalStateException("[" + v.name() + "] answered nothing in the ramp, so there is no"
                            + " saturation rate to take " + share + " of; first problem: " + run.saturation().firstError());
                }
                String name = openName(share);
                progress.accept(String.format(Locale.ROOT, "[%s] %s: Poisson arrivals at %.1f requests/s for %d s",
                        v.name(), name, rps, settings.phase().toSeconds()));
                PhaseResult r = load.openLoop(name, rps, settings.phase());
                print(r);
                run.open().add(r);
            }
            out.printf(Locale.ROOT, "  saturation %.1f rps (closed c=%d), unloaded p50 %.1f ms%n", run.saturationRps(),
                    run.saturation().concurrency(), run.unloadedP50Ms());
            out.flush();
            return new ServerRun(v, run.note(), run.warmup(), run.ramp(), run.saturation(), List.copyOf(run.open()));
        }
    }

    /** Warm-up and ramp; the open list of the result is mutable, for the caller to fill. */
    private ServerRun load(Variant v, OfframpServer server, LoadGenerator load) throws InterruptedException {
        String note = server.model().note();
        out.println();
        out.println("== " + v.name() + ": " + v.description());
        // the note names the calibrated criterion with all its thresholds: the start is enough here
        out.println("  server: " + (note.length() > 200 ? note.substring(0, 200) + "..." : note));
        out.println(PhaseResult.header());
        out.flush();
        List<PhaseResult> warmup = warmUp(v, load);
        for (PhaseResult w : warmup) {
            if (w.errors() + w.lost() > 0) out.println("  " + w.phase() + ": " + w.errors() + " errors, " + w.lost() + " lost; first: " + w.firstError());
        }
        List<PhaseResult> ramp = new ArrayList<>();
        PhaseResult best = null;
        int flat = 0;
        for (int clients = 1; clients <= settings.maxConcurrency(); clients *= 2) {
            progress.accept(String.format(Locale.ROOT, "[%s] closed loop: %d client%s for %d s", v.name(), clients,
                    clients == 1 ? "" : "s", settings.phase().toSeconds()));
            PhaseResult r = load.closedLoop("closed c=" + clients, clients, settings.phase());
            print(r);
            ramp.add(r);
            boolean rose = best == null || r.rps() > best.rps() * (1 + settings.minRise());
            if (best == null || r.rps() > best.rps()) best = r;
            flat = rose ? 0 : flat + 1;
            if (flat >= settings.patience()) break;  // saturated: more clients only queue
            if (clients > Integer.MAX_VALUE / 2) break;
        }
        return new ServerRun(v, note, warmup, ramp, best, new ArrayList<>());
    }

    /**
     * The warm-up: half at 1 client, half at {@code warmupClients} (single-input and batched steps both get
     * compiled), then on in 2 s windows while the JIT spent more than 5 % of the last window compiling, up to
     * {@link Settings#warmupMax()}.
     */
    private List<PhaseResult> warmUp(Variant v, LoadGenerator load) throws InterruptedException {
        progress.accept(String.format(Locale.ROOT, "[%s] warm-up: 1 client, then %d, for %.1f s, longer while the JIT"
                + " compiles (not reported)", v.name(), settings.warmupClients(), settings.warmup().toMillis() / 1000.0));
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean watchJit = jit != null && jit.isCompilationTimeMonitoringSupported();
        long start = System.nanoTime();
        Duration half = settings.warmup().dividedBy(2);
        List<PhaseResult> warmup = new ArrayList<>();
        warmup.add(load.closedLoop("warm-up c=1", 1, half));
        long jitBefore = watchJit ? jit.getTotalCompilationTime() : 0;
        warmup.add(load.closedLoop("warm-up c=" + settings.warmupClients(), settings.warmupClients(), settings.warmup().minus(half)));
        Duration window = Duration.ofSeconds(2);
        long compiledMs = watchJit ? jit.getTotalCompilationTime() - jitBefore : 0;
        long windowMs = settings.warmup().minus(half).toMillis();
        while (watchJit && compiledMs > 0.05 * windowMs
                && Duration.ofNanos(System.nanoTime() - start).plus(window).compareTo(settings.warmupMax()) <= 0) {
            int clients = warmup.size() % 2 == 0 ? 1 : settings.warmupClients();
            progress.accept(String.format(Locale.ROOT, "[%s] warm-up: the JIT compiled for %d ms in the last %.1f s; %d more s at %d client%s",
                    v.name(), compiledMs, windowMs / 1000.0, window.toSeconds(), clients, clients == 1 ? "" : "s"));
            jitBefore = jit.getTotalCompilationTime();
            warmup.add(load.closedLoop("warm-up c=" + clients, clients, window));
            compiledMs = jit.getTotalCompilationTime() - jitBefore;
            windowMs = window.toMillis();
        }
        out.printf(Locale.ROOT, "  warm-up: %.1f s, %d phases (the JIT compiled for %d ms in the last %.1f s)%n",
                (System.nanoTime() - start) / 1e9, warmup.size(), compiledMs, windowMs / 1000.0);
        return warmup;
    }

    /**
     * The soak: the variant's warm-up and ramp, then Poisson arrivals at {@code share} of its saturation for
     * {@code length}, sampling the heap (after a full collection) at the start, every {@code sampleEvery} and at the
     * end. Prints the soak's row, the samples and the verdict lines; the caller prints {@link #soakSummary}.
     */
    public SoakRun soak(Variant v, Duration length, double share, Duration sampleEvery) throws IOException, InterruptedException {
        if (sampleEvery.isNegative() || sampleEvery.isZero()) throw new IllegalArgumentException("the heap sampling interval must be > 0");
        progress.accept("[" + v.name() + "] starting: " + v.description());
        try (OfframpServer server = starter.start(v.config().withPort(0));
             LoadGenerator load = new LoadGenerator(server.url(), inputs, settings.grace())) {
            ServerRun ramp = load(v, server, load);
            double rps = share * ramp.saturationRps();
            if (!(rps > 0)) throw new IllegalStateException("[" + v.name() + "] answered nothing in the ramp: " + ramp.saturation().firstError());
            HeapSamples heap = new HeapSamples();
            heap.sample(false);
            progress.accept(String.format(Locale.ROOT, "[%s] soak: Poisson arrivals at %.1f requests/s (%d %% of saturation) for %.1f min;"
                    + " heap %.1f MB after GC", v.name(), rps, Math.round(share * 100), length.toSeconds() / 60.0, heap.firstMb()));
            long sent0 = load.totalSent(), ok0 = load.totalOk(), err0 = load.totalErrors(), lost0 = load.totalLost();
            Thread sampler = Thread.ofPlatform().daemon().name("bench-heap-sampler").start(() -> {
                try {
                    while (true) {
                        Thread.sleep(sampleEvery);
                        HeapSamples.Sample s = heap.sample(true);
                        progress.accept(String.format(Locale.ROOT, "[%s] soak %.1f min: sent %d, ok %d, errors %d, lost %d; heap %.1f MB after GC",
                                v.name(), s.minutes(), load.totalSent() - sent0, load.totalOk() - ok0,
                                load.totalErrors() - err0, load.totalLost() - lost0, s.heapMb()));
                    }
                } catch (InterruptedException e) {
                    // the soak is over
                }
            });
            PhaseResult soak;
            try {
                soak = load.openLoop("soak", rps, length);
            } finally {
                sampler.interrupt();
                sampler.join();
            }
            heap.sample(false);  // idle again: every answer is in, the server still holds the model
            print(soak);
            StringBuilder line = new StringBuilder("  heap after GC, MB: idle before " + mb(heap.firstMb()) + "; under load (minute: MB)");
            for (HeapSamples.Sample s : heap.underLoad()) line.append(String.format(Locale.ROOT, " %.1f: %.1f", s.minutes(), s.heapMb()));
            out.println(line.append("; idle after ").append(mb(heap.lastMb())));
            out.printf(Locale.ROOT, "ids: sent=%d answered=%d answered_twice=%d lost=%d (every request carries a unique %s,"
                            + " echoed by the server and counted per id)%n", soak.sent(), soak.answered(), soak.duplicates(),
                    soak.lost(), LoadGenerator.ID_HEADER);
            List<HeapSamples.Sample> loaded = heap.underLoad();
            out.printf(Locale.ROOT, "heap: idle_start_mb=%.1f idle_end_mb=%.1f under_load_samples=%d under_load_first_mb=%.1f"
                            + " under_load_last_mb=%.1f under_load_max_mb=%.1f slope_under_load_mb_per_min=%.2f"
                            + " (heap used after System.gc() every %d s, in the JVM that runs both the server and the"
                            + " load generator, whose records take about 40 bytes per request)%n",
                    heap.firstMb(), heap.lastMb(), loaded.size(),
                    loaded.isEmpty() ? Double.NaN : loaded.getFirst().heapMb(), loaded.isEmpty() ? Double.NaN : loaded.getLast().heapMb(),
                    loaded.stream().mapToDouble(HeapSamples.Sample::heapMb).max().orElse(Double.NaN),
                    heap.slopeMbPerMinute(), sampleEvery.toSeconds());
            out.flush();
            return new SoakRun(ramp, soak, heap);
        }
    }

    /**
     * The soak's last line: errors count non-200 answers and answers to an id already answered; the heap figures
     * are the idle samples before and after the soak.
     */
    public static String soakSummary(SoakRun s) {
        return String.format(Locale.ROOT, "summary: soak_minutes=%.1f requests=%d lost=%d errors=%d heap_start_mb=%.1f heap_end_mb=%.1f",
                s.soak().seconds() / 60.0, s.soak().sent(), s.soak().lost(), s.soak().errors() + s.soak().duplicates(),
                s.heap().firstMb(), s.heap().lastMb());
    }

    /**
     * The comparison's closing lines: the two batchers, the latency target, the throughput targets, and last the
     * summary ({@code rps} at saturation and {@code p50_ms}/{@code p99_ms} at 50 % load of the early-exit continuous
     * server; {@code full_depth_rps} the better of Offramp's full-depth servers, continuous and dynamic, so early
     * exit is measured against the stronger baseline; lost and errors over every phase of every server, errors
     * including answers to an id already answered). A server that was not run reads NaN.
     */
    public static List<String> closingLines(Map<String, ServerRun> runs) {
        List<String> lines = new ArrayList<>();
        ServerRun ee = runs.get(EARLY_EXIT), dyn = runs.get(EARLY_EXIT_DYNAMIC), full = runs.get(FULL_DEPTH),
                fullDynamic = runs.get(FULL_DEPTH_DYNAMIC), ort = runs.get(ONNXRUNTIME);
        if (full == null || (fullDynamic != null && fullDynamic.saturationRps() > full.saturationRps())) full = fullDynamic;
        long lost = 0, errors = 0;
        for (ServerRun r : runs.values()) {
            lost += r.lost();
            errors += r.errors() + r.duplicates();
        }
        if (ee != null && dyn != null) {
            lines.add(String.format(Locale.ROOT, "batchers: continuous_rps=%.1f dynamic_rps=%.1f ratio=%.2f"
                            + " continuous_p99_ms_at_50=%.1f dynamic_p99_ms_at_50=%.1f (each at 50 %% of its own saturation)",
                    ee.saturationRps(), dyn.saturationRps(), ee.saturationRps() / dyn.saturationRps(), p99At50(ee), p99At50(dyn)));
        }
        if (ee != null) {
            lines.add(String.format(Locale.ROOT, "latency: unloaded_p50_ms=%.1f p99_ms_at_50=%.1f ratio=%.2f (issue target <= 4)",
                    ee.unloadedP50Ms(), p99At50(ee), p99At50(ee) / ee.unloadedP50Ms()));
        }
        double x = ee == null ? Double.NaN : ee.saturationRps();
        double y = full == null ? Double.NaN : full.saturationRps();
        double z = ort == null ? Double.NaN : ort.saturationRps();
        if (ee != null && full != null) {
            lines.add(String.format(Locale.ROOT, "targets: rps/full_depth_rps=%.2f (>= 1.5; full depth: %s) rps/onnxruntime_rps=%.2f (>= 1.8)",
                    x / y, full.variant().name(), x / z));
        }
        PhaseResult at50 = ee == null ? null : ee.openAt(0.5);
        lines.add(String.format(Locale.ROOT, "summary: rps=%.1f p50_ms=%.1f p99_ms=%.1f full_depth_rps=%.1f onnxruntime_rps=%.1f"
                        + " speedup_vs_onnxruntime=%.2f lost=%d errors=%d",
                x, at50 == null ? Double.NaN : at50.p50Ms(), at50 == null ? Double.NaN : at50.p99Ms(), y, z, x / z, lost, errors));
        return lines;
    }

    private static String mb(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    /** The open-loop phase's name for a share of saturation, e.g. "open 50%". */
    static String openName(double share) {
        return String.format(Locale.ROOT, "open %d%%", Math.round(share * 100));
    }

    private static double p99At50(ServerRun r) {
        PhaseResult p = r.openAt(0.5);
        return p == null ? Double.NaN : p.p99Ms();
    }

    private void print(PhaseResult r) {
        out.println(r.row());
        if (r.errors() + r.lost() + r.duplicates() > 0) {
            out.println("    " + r.errors() + " errors, " + r.lost() + " lost, " + r.duplicates() + " answered twice; first: " + r.firstError());
        }
        if (r.inconsistent() > 0) {
            out.println("    " + r.inconsistent() + " answers differ (label or exit layer) from this server's first answer for the same input");
        }
        out.flush();
    }

    /**
     * The inputs to send: a GLUE-layout TSV file of the model's task when {@code dataFile} is set, else the model's
     * task's dev split from the shared data folder ({@link dev.offramp.data.DataPaths}; SST-2's dev.tsv for an
     * SST-2 model). The task is read from the model folder's config.
     */
    public static List<LoadGenerator.Input> inputs(Path modelDir, Path dataFile) throws IOException {
        Path config = modelDir.resolve(MultiExitModel.CONFIG_FILE);
        if (!Files.isRegularFile(config)) throw new IllegalArgumentException(modelDir + " is not a trained model folder: it has no " + MultiExitModel.CONFIG_FILE);
        JsonNode task = new ObjectMapper().readTree(config.toFile()).path("task").path("name");
        if (!task.isTextual()) throw new IllegalArgumentException(config + " names no task (task.name)");
        List<Example> examples;
        if (dataFile != null) {
            if (!Files.isRegularFile(dataFile)) throw new IllegalArgumentException("--data " + dataFile + " is not a file");
            examples = GlueLoader.parse(Tasks.byName(task.textValue()), dataFile);
        } else {
            examples = Datasets.load(task.textValue()).dev();
        }
        if (examples.isEmpty()) throw new IllegalArgumentException("no inputs to send: the " + task.textValue() + " dev data is empty");
        return examples.stream().map(e -> new LoadGenerator.Input(e.textA(), e.textB())).toList();
    }
}
