package dev.offramp.server.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.server.OfframpServer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Drives an Offramp server over real HTTP (java.net.http, asynchronous) on the TEI route {@code POST /predict},
 * one input per request, in phases:
 * <ul>
 *   <li>{@link #closedLoop closed loop}: N clients, each sending its next request when its last one is answered
 *       (what the server can do at that concurrency);</li>
 *   <li>{@link #openLoop open loop}: Poisson arrivals at a fixed rate whatever the server does, latency counted from
 *       each request's scheduled send time, so a slow server cannot slow the load down and hide its own latency
 *       (no coordinated omission).</li>
 * </ul>
 * Every request carries a unique id in the {@value #ID_HEADER} header, which the server echoes on its answer; the
 * generator counts answers per echoed id, so an answer delivered to the wrong request or twice shows up as a
 * duplicate. After a phase's sending window it waits up to the grace period for the answers still due; the
 * requests still unanswered then are lost (and cancelled, so they do not load the next phase).
 *
 * <p>Memory is bounded by the requests sent (a few dozen bytes each, in chunks), so a long soak in the server's own
 * JVM does not show up as the server's heap growing. Not thread-safe: run one phase at a time.
 */
public final class LoadGenerator implements AutoCloseable {
    /** The request-id header the server echoes on every answer. */
    public static final String ID_HEADER = OfframpServer.REQUEST_ID_HEADER;

    /** One input: a text, or a pair when {@code pair} is set. */
    public record Input(String text, String pair) {
        public Input {
            Objects.requireNonNull(text, "text");
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Slot states. */
    private static final int IN_FLIGHT = 0, ANSWERED = 1, LOST = 2;
    /** Pseudo-statuses for answers that came but are not the request's: counted as errors. */
    private static final int WRONG_ID = -1, UNREADABLE = -2;

    private final ExecutorService callbacks = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpClient client;
    private final URI predict;
    private final List<Input> inputs;
    private final byte[][] bodies;
    private final Duration grace;
    /** The first answer per input ("label@exit"), to check later answers for the same input against. */
    private final AtomicReferenceArray<String> reference;
    private final String tag = Long.toString(System.nanoTime() & 0xffffff, 36);
    private final AtomicLong inputCursor = new AtomicLong();
    private int phases;
    /** Totals over every phase, readable while a phase runs (the soak's progress lines). */
    private final AtomicLong totalSent = new AtomicLong(), totalOk = new AtomicLong(), totalErrors = new AtomicLong(),
            totalLost = new AtomicLong();

    /**
     * @param baseUrl the server's base URL, e.g. http://127.0.0.1:8080
     * @param inputs  the inputs to cycle through (one per request)
     * @param grace   how long after a phase's sending window an answer may still come before it counts as lost
     */
    public LoadGenerator(String baseUrl, List<Input> inputs, Duration grace) {
        if (inputs.isEmpty()) throw new IllegalArgumentException("the load generator needs at least one input");
        if (grace.isNegative()) throw new IllegalArgumentException("grace must be >= 0, got " + grace);
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(callbacks)
                .connectTimeout(Duration.ofSeconds(10)).build();
        this.predict = URI.create(baseUrl + "/predict");
        this.inputs = List.copyOf(inputs);
        this.grace = grace;
        this.reference = new AtomicReferenceArray<>(inputs.size());
        this.bodies = new byte[inputs.size()][];
        for (int i = 0; i < bodies.length; i++) {
            Input in = inputs.get(i);
            ObjectNode body = JSON.createObjectNode();
            if (in.pair() == null) body.put("inputs", in.text());
            else body.putArray("inputs").add(in.text()).add(in.pair());
            bodies[i] = body.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    public long totalSent() { return totalSent.get(); }

    public long totalOk() { return totalOk.get(); }

    public long totalErrors() { return totalErrors.get(); }

    public long totalLost() { return totalLost.get(); }

    /**
     * {@code clients} clients in a closed loop for {@code length}: each sends its next request when its last one is
     * answered; no client starts a request after the window. Returns once every request was answered or the grace
     * period after the window ran out.
     */
    public PhaseResult closedLoop(String name, int clients, Duration length) throws InterruptedException {
        if (clients < 1) throw new IllegalArgumentException("clients must be >= 1, got " + clients);
        Phase p = new Phase(name, clients, Double.NaN, length);
        CountDownLatch done = new CountDownLatch(clients);
        for (int c = 0; c < clients; c++) sendNext(p, done);
        done.await(Math.max(0, p.end + grace.toNanos() - System.nanoTime()), TimeUnit.NANOSECONDS);
        return finish(p);
    }

    /** One closed-loop client's next request, or its end once the window is over. */
    private void sendNext(Phase p, CountDownLatch done) {
        long now = System.nanoTime();
        if (now >= p.end || p.stopped) {
            done.countDown();
            return;
        }
        send(p, now).whenComplete((ignored, err) -> sendNext(p, done));
    }

    /**
     * Poisson arrivals at {@code rps} for {@code length} (exponential gaps from a generator seeded by the phase
     * number, so a rerun offers the same schedule). Sends on the caller's thread; returns once every request was
     * answered or the grace period after the window ran out.
     */
    public PhaseResult openLoop(String name, double rps, Duration length) throws InterruptedException {
        if (!(rps > 0)) throw new IllegalArgumentException("an open loop needs a rate > 0 requests/s, got " + rps);
        Phase p = new Phase(name, 0, rps, length);
        SplittableRandom random = new SplittableRandom(0x5EEDL + phases);
        double next = p.start;
        while (true) {
            next += -Math.log(1 - random.nextDouble()) / rps * 1e9;
            long at = (long) next;
            if (at - p.end >= 0) break;
            long wait = at - System.nanoTime();
            if (wait > 0) LockSupport.parkNanos(wait);
            send(p, at);  // latency from the scheduled time: a late send still counts from when it was due
        }
        long deadline = p.end + grace.toNanos();
        while (p.inFlight.get() > 0 && System.nanoTime() - deadline < 0) Thread.sleep(5);
        return finish(p);
    }

    /** Sends one request as slot {@code p.slots.next()} of the phase; latency is counted from {@code sentAt}. */
    private CompletableFuture<?> send(Phase p, long sentAt) {
        int slot = p.slots.next();
        int input = (int) Math.floorMod(inputCursor.getAndIncrement(), (long) inputs.size());
        Chunk c = p.slots.chunk(slot);
        int k = slot & Slots.MASK;
        c.sentAt[k] = sentAt;
        c.input[k] = input;
        p.inFlight.incrementAndGet();
        totalSent.incrementAndGet();
        HttpRequest req = HttpRequest.newBuilder(predict)
                .timeout(Duration.ofNanos(p.end - p.start).plus(grace).plusSeconds(5))
                .header("Content-Type", "application/json")
                .header(ID_HEADER, p.idPrefix + slot)
                .POST(HttpRequest.BodyPublishers.ofByteArray(bodies[input])).build();
        CompletableFuture<HttpResponse<byte[]>> f = client.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray());
        p.pending.put(slot, f);
        return f.whenComplete((r, err) -> {
            p.pending.remove(slot);
            complete(p, slot, r, err);
            p.inFlight.decrementAndGet();
        });
    }

    /** Records one answer (or the failure to get one) in its slot. */
    private void complete(Phase p, int slot, HttpResponse<byte[]> r, Throwable err) {
        long now = System.nanoTime();
        Chunk c = p.slots.chunk(slot);
        int k = slot & Slots.MASK;
        if (err != null) {
            // no HTTP answer (connection refused or reset, timeout, cancelled at the phase's end): lost
            if (c.state.compareAndSet(k, IN_FLIGHT, LOST)) {
                totalLost.incrementAndGet();
                p.problem("request " + p.idPrefix + slot + " got no answer: " + err);
            }
            return;
        }
        int status = r.statusCode();
        String echoed = r.headers().firstValue(ID_HEADER).orElse(null);
        if (echoed != null && echoed.startsWith(p.idPrefix)) {
            try {
                int named = Integer.parseInt(echoed.substring(p.idPrefix.length()));
                if (named >= 0 && named < p.slots.count.get()) {
                    Chunk e = p.slots.chunk(named);
                    if (e.echoes.incrementAndGet(named & Slots.MASK) > 1) p.duplicates.incrementAndGet();
                }
            } catch (NumberFormatException ignored) {
                // another request's id format: caught as a wrong id below
            }
        }
        int exit = 0;
        if (!(p.idPrefix + slot).equals(echoed)) {
            p.problem("request " + p.idPrefix + slot + " got an answer carrying id " + echoed);
            status = WRONG_ID;
        } else if (status == 200) {
            try {
                JsonNode top = JSON.readTree(r.body()).get(0);
                exit = top.get("exit_layer").asInt();
                String answer = top.get("label").asText() + "@" + exit;
                int input = c.input[k];
                if (!reference.compareAndSet(input, null, answer) && !answer.equals(reference.get(input))) {
                    p.inconsistent.incrementAndGet();
                }
            } catch (Exception e) {
                p.problem("request " + p.idPrefix + slot + ": unreadable answer (" + e.getMessage() + "): "
                        + new String(r.body(), java.nio.charset.StandardCharsets.UTF_8));
                status = UNREADABLE;
            }
        } else {
            p.problem("request " + p.idPrefix + slot + ": HTTP " + status + " "
                    + new String(r.body(), java.nio.charset.StandardCharsets.UTF_8));
        }
        c.doneAt[k] = now;
        c.status[k] = status;
        c.exit[k] = exit;
        // the plain fields above are published by this volatile write; a slot already declared lost stays lost
        if (c.state.compareAndSet(k, IN_FLIGHT, ANSWERED)) {
            (status == 200 ? totalOk : totalErrors).incrementAndGet();
        }
    }

    /** Declares what is still unanswered lost (and cancels it), then sums the phase up. */
    private PhaseResult finish(Phase p) {
        p.stopped = true;
        int n = p.slots.count.get();
        for (int slot = 0; slot < n; slot++) {
            Chunk c = p.slots.chunk(slot);
            if (c.state.compareAndSet(slot & Slots.MASK, IN_FLIGHT, LOST)) {
                totalLost.incrementAndGet();
                p.problem("request " + p.idPrefix + slot + " was not answered within " + grace.toSeconds()
                        + " s after the phase");
                CompletableFuture<?> f = p.pending.remove(slot);
                if (f != null) f.cancel(true);
            }
        }
        long[] latency = new long[n];
        int okCount = 0;
        long ok = 0, errors = 0, lost = 0, inWindow = 0, exitSum = 0;
        for (int slot = 0; slot < n; slot++) {
            Chunk c = p.slots.chunk(slot);
            int k = slot & Slots.MASK;
            int state = c.state.get(k);
            if (state == LOST) {
                lost++;
            } else if (c.status[k] == 200) {
                ok++;
                latency[okCount++] = c.doneAt[k] - c.sentAt[k];
                exitSum += c.exit[k];
                if (c.doneAt[k] - p.end <= 0) inWindow++;
            } else {
                errors++;
            }
        }
        Arrays.sort(latency, 0, okCount);
        double seconds = (p.end - p.start) / 1e9;
        double rps = (p.concurrency > 0 ? inWindow : ok) / seconds;
        return new PhaseResult(p.name, p.concurrency, p.offered, seconds, n, ok, errors, lost, p.duplicates.get(),
                p.inconsistent.get(), rps, PhaseResult.quantile(latency, okCount, 0.50) / 1e6,
                PhaseResult.quantile(latency, okCount, 0.95) / 1e6, PhaseResult.quantile(latency, okCount, 0.99) / 1e6,
                okCount == 0 ? Double.NaN : exitSum / (double) okCount, p.firstProblem.get());
    }

    @Override
    public void close() {
        client.shutdownNow();
        callbacks.shutdownNow();
    }

    // ----------------------------------------------------------------------------------------------------

    /** One phase's window and bookkeeping. */
    private final class Phase {
        final String name, idPrefix;
        final int concurrency;
        final double offered;
        final long start, end;
        final Slots slots = new Slots();
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicLong duplicates = new AtomicLong(), inconsistent = new AtomicLong();
        final AtomicReference<String> firstProblem = new AtomicReference<>();
        /** Requests not yet answered, so the phase's end can cancel them. */
        final ConcurrentHashMap<Integer, CompletableFuture<?>> pending = new ConcurrentHashMap<>();
        volatile boolean stopped;

        Phase(String name, int concurrency, double offered, Duration length) {
            if (length.isNegative() || length.isZero()) throw new IllegalArgumentException("a phase needs a length > 0, got " + length);
            this.name = name;
            this.concurrency = concurrency;
            this.offered = offered;
            this.idPrefix = tag + "-" + (++phases) + "-";
            this.start = System.nanoTime();
            this.end = start + length.toNanos();
        }

        void problem(String what) {
            firstProblem.compareAndSet(null, what.length() > 300 ? what.substring(0, 300) + "..." : what);
        }
    }

    /** Per-request records indexed by the request's number in its phase, in chunks allocated as sends need them. */
    private static final class Slots {
        static final int BITS = 14, SIZE = 1 << BITS, MASK = SIZE - 1;
        final AtomicReferenceArray<Chunk> chunks = new AtomicReferenceArray<>(1 << 14);
        final AtomicInteger count = new AtomicInteger();

        int next() {
            int slot = count.getAndIncrement();
            if (slot >>> BITS >= chunks.length()) throw new IllegalStateException("a phase sent more than " + (long) chunks.length() * SIZE + " requests");
            chunk(slot);  // allocate before the slot is used
            return slot;
        }

        Chunk chunk(int slot) {
            int i = slot >>> BITS;
            Chunk c = chunks.get(i);
            if (c == null) {
                chunks.compareAndSet(i, null, new Chunk());
                c = chunks.get(i);
            }
            return c;
        }
    }

    /** A chunk of slots: plain arrays written before the slot's state changes, read after it did. */
    private static final class Chunk {
        final long[] sentAt = new long[Slots.SIZE], doneAt = new long[Slots.SIZE];
        final int[] status = new int[Slots.SIZE], exit = new int[Slots.SIZE], input = new int[Slots.SIZE];
        final AtomicIntegerArray state = new AtomicIntegerArray(Slots.SIZE);
        final AtomicIntegerArray echoes = new AtomicIntegerArray(Slots.SIZE);
    }
}
