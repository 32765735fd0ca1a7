package dev.offramp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.data.Example;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Drives an Offramp server over real HTTP with one input per request (the OIP infer route, each request carrying
 * a unique id that the answer must echo): closed loop (N clients, each sending its next request when the last is
 * answered) or open loop (Poisson arrivals at a fixed rate, latency counted from the scheduled send time, so a
 * slow server cannot slow the load down and hide its own latency).
 */
final class LoadGenerator implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long after a phase an unanswered request still counts as in flight rather than lost. */
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(60);

    /** One phase's figures. */
    record Result(String phase, double offeredRps, double rps, double p50, double p95, double p99, double meanExit,
                  long sent, long answered, long errors, long lost, long duplicates, String firstError) {
        String row(String variant) {
            return String.format(Locale.ROOT, "%-24s %-14s %8s %8.1f %8.1f %8.1f %8.1f %9.2f %7d %7d %5d",
                    variant, phase, offeredRps > 0 ? String.format(Locale.ROOT, "%.1f", offeredRps) : "-", rps, p50, p95, p99,
                    meanExit, sent, errors, lost);
        }

        static String header() {
            return String.format(Locale.ROOT, "%-24s %-14s %8s %8s %8s %8s %8s %9s %7s %7s %5s",
                    "server", "phase", "offered", "rps", "p50_ms", "p95_ms", "p99_ms", "mean_exit", "sent", "errors", "lost");
        }
    }

    private final HttpClient client;
    private final ExecutorService clientThreads = Executors.newVirtualThreadPerTaskExecutor();
    private final URI infer;
    private final List<Example> examples;
    private final AtomicLong ids = new AtomicLong();

    LoadGenerator(String baseUrl, String modelName, List<Example> examples) {
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(clientThreads)
                .connectTimeout(Duration.ofSeconds(10)).build();
        this.infer = URI.create(baseUrl + "/v2/models/" + modelName + "/infer");
        this.examples = examples;
    }

    /** Per-phase bookkeeping: latencies, exit layers, and how often each id was answered. */
    private static final class Tally {
        final long[] latencyNanos;
        final AtomicInteger n = new AtomicInteger();
        final AtomicLong exitSum = new AtomicLong(), errors = new AtomicLong(), sent = new AtomicLong(), duplicates = new AtomicLong();
        final ConcurrentHashMap<String, Boolean> answeredIds = new ConcurrentHashMap<>();
        volatile String firstError;

        Tally(int capacity) {
            latencyNanos = new long[capacity];
        }

        void ok(String id, long nanos, int exit) {
            if (answeredIds.putIfAbsent(id, Boolean.TRUE) != null) duplicates.incrementAndGet();
            int i = n.getAndIncrement();
            if (i < latencyNanos.length) latencyNanos[i] = nanos;
            exitSum.addAndGet(exit);
        }

        void error(String id, String what) {
            if (id != null && answeredIds.putIfAbsent(id, Boolean.TRUE) != null) duplicates.incrementAndGet();
            errors.incrementAndGet();
            if (firstError == null) firstError = what;
        }

        Result result(String phase, double offered, double seconds) {
            int k = Math.min(n.get(), latencyNanos.length);
            long[] lat = Arrays.copyOf(latencyNanos, k);
            Arrays.sort(lat);
            long answered = answeredIds.size();
            return new Result(phase, offered, k / seconds, pct(lat, 0.50), pct(lat, 0.95), pct(lat, 0.99),
                    k == 0 ? 0 : exitSum.get() / (double) k, sent.get(), answered, errors.get(),
                    sent.get() - answered, duplicates.get(), firstError);
        }

        static double pct(long[] sorted, double q) {
            if (sorted.length == 0) return Double.NaN;
            int i = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
            return sorted[Math.max(0, i)] / 1e6;
        }
    }

    /** One request for example i; answers with the request id. */
    private HttpRequest request(String id, int i) {
        Example e = examples.get(Math.floorMod(i, examples.size()));
        ObjectNode body = JSON.createObjectNode();
        body.put("id", id);
        ArrayNode inputs = body.putArray("inputs");
        tensor(inputs, "text", e.textA());
        if (e.textB() != null) tensor(inputs, "text_pair", e.textB());
        body.putArray("outputs").addObject().put("name", "exit_layer");
        return HttpRequest.newBuilder(infer).timeout(ANSWER_TIMEOUT).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
    }

    private static void tensor(ArrayNode inputs, String name, String text) {
        ObjectNode t = inputs.addObject();
        t.put("name", name).put("datatype", "BYTES");
        t.putArray("shape").add(1);
        t.putArray("data").add(text);
    }

    /** Records one answer: 200 with our id echoed, or an error. */
    private void record(Tally t, String id, HttpResponse<String> r, Throwable err, long startNanos) {
        long nanos = System.nanoTime() - startNanos;
        if (err != null) {
            t.error(null, err.toString());
            return;
        }
        if (r.statusCode() != 200) {
            t.error(id, r.statusCode() + " " + r.body());
            return;
        }
        try {
            JsonNode j = JSON.readTree(r.body());
            if (!id.equals(j.path("id").asText())) {
                t.error(id, "answer for id " + j.path("id").asText() + " came to request " + id);
                return;
            }
            t.ok(id, nanos, j.get("outputs").get(0).get("data").get(0).asInt());
        } catch (Exception e) {
            t.error(id, "unreadable answer: " + e);
        }
    }

    /** N clients in a loop for the given time (after a warm-up of the same load that is not counted). */
    Result closedLoop(int clients, Duration warmup, Duration measure) throws InterruptedException {
        long start = System.nanoTime();
        long measureFrom = start + warmup.toNanos(), end = measureFrom + measure.toNanos();
        Tally tally = new Tally(1 << 22);
        Thread[] threads = new Thread[clients];
        for (int c = 0; c < clients; c++) {
            int clientNo = c;
            threads[c] = Thread.ofVirtual().start(() -> {
                int i = clientNo * 7919;
                while (true) {
                    long now = System.nanoTime();
                    if (now >= end) return;
                    String id = "c" + ids.incrementAndGet();
                    boolean counted = now >= measureFrom;
                    HttpResponse<String> r = null;
                    Throwable err = null;
                    try {
                        r = client.send(request(id, i++), HttpResponse.BodyHandlers.ofString());
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        err = e;
                    }
                    // a request is counted when it was sent in the window and answered before its end
                    if (counted && System.nanoTime() <= end) {
                        tally.sent.incrementAndGet();
                        record(tally, id, r, err, now);
                    }
                }
            });
        }
        for (Thread t : threads) t.join();
        return tally.result("closed c=" + clients, 0, measure.toNanos() / 1e9);
    }

    /** Poisson arrivals at rate rps for the given time; waits for every answer (up to the answer timeout). */
    Result openLoop(double rps, Duration measure, long seed, String phase) throws InterruptedException {
        Tally tally = new Tally((int) Math.min(1 << 26, rps * measure.toSeconds() * 2 + 1024));
        SplittableRandom rnd = new SplittableRandom(seed);
        long start = System.nanoTime(), end = start + measure.toNanos();
        double next = start;
        int i = (int) (seed & 0xffff);
        AtomicInteger outstanding = new AtomicInteger();
        while (true) {
            next += -Math.log(1 - rnd.nextDouble()) / rps * 1e9;
            long at = (long) next;
            if (at >= end) break;
            long wait = at - System.nanoTime();
            if (wait > 0) LockSupport.parkNanos(wait);
            String id = "o" + ids.incrementAndGet();
            tally.sent.incrementAndGet();
            outstanding.incrementAndGet();
            client.sendAsync(request(id, i++), HttpResponse.BodyHandlers.ofString()).whenComplete((r, err) -> {
                record(tally, id, r, err, at);  // latency from the scheduled send: no coordinated omission
                outstanding.decrementAndGet();
            });
        }
        long giveUp = System.nanoTime() + ANSWER_TIMEOUT.toNanos() + TimeUnit.SECONDS.toNanos(5);
        while (outstanding.get() > 0 && System.nanoTime() < giveUp) Thread.sleep(5);
        return tally.result(phase, rps, measure.toNanos() / 1e9);
    }

    @Override
    public void close() {
        client.close();
        clientThreads.shutdownNow();
    }
}
