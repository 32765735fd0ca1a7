package dev.offramp.server;

import dev.offramp.serving.SchedulerListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * The server's Prometheus series (Micrometer names; Prometheus adds the unit and _total suffixes):
 * <ul>
 *   <li>{@code offramp_requests_total{route,status}}: HTTP requests answered;</li>
 *   <li>{@code offramp_request_duration_seconds{route,status}}: latency histogram (_bucket, _count, _sum);</li>
 *   <li>{@code offramp_queue_depth}: inputs accepted and not yet answered;</li>
 *   <li>{@code offramp_batch_size{layer}}: samples per scheduler step, per layer (layer="0": a whole full-depth batch);</li>
 *   <li>{@code offramp_batch_tokens{layer}}: tokens per scheduler step, per layer;</li>
 *   <li>{@code offramp_exit_layer}: the layer each input left at (histogram with one bucket per layer);</li>
 *   <li>{@code offramp_layers_saved_total}: layers not run thanks to early exit, summed over inputs;</li>
 *   <li>{@code offramp_inputs_answered_total}, {@code offramp_deadline_expired_total}.</li>
 * </ul>
 * Also the scheduler's listener: its methods run on the scheduler thread, so they only touch pre-built meters
 * (no registry look-up on the hot path except the first step of a new layer).
 */
public final class ServerMetrics implements SchedulerListener {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConcurrentHashMap<String, Counter> requests = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Timer> latency = new ConcurrentHashMap<>();
    private final DistributionSummary[] batchSize, batchTokens;
    private final DistributionSummary exitLayer;
    private final Counter layersSaved, answered, expired;

    /**
     * @param layers     the model's depth (sizes the per-layer meters and the exit-layer buckets)
     * @param queueDepth what the queue-depth gauge reads (the scheduler's pending count)
     */
    public ServerMetrics(int layers, IntSupplier queueDepth) {
        Gauge.builder("offramp.queue.depth", queueDepth, s -> s.getAsInt()).strongReference(true)  // a lambda: nothing else holds it
                .description("inputs accepted and not yet answered").register(registry);
        batchSize = new DistributionSummary[layers + 1];
        batchTokens = new DistributionSummary[layers + 1];
        for (int l = 0; l <= layers; l++) {
            batchSize[l] = DistributionSummary.builder("offramp.batch.size").tag("layer", Integer.toString(l))
                    .description("samples in one scheduler step at this layer (0 = a whole full-depth batch)")
                    .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256).register(registry);
            batchTokens[l] = DistributionSummary.builder("offramp.batch.tokens").tag("layer", Integer.toString(l))
                    .description("tokens in one scheduler step at this layer").register(registry);
        }
        double[] buckets = new double[layers];
        for (int l = 1; l <= layers; l++) buckets[l - 1] = l;
        exitLayer = DistributionSummary.builder("offramp.exit.layer").description("the layer an input left at")
                .serviceLevelObjectives(buckets).register(registry);
        layersSaved = Counter.builder("offramp.layers.saved").description("layers not run thanks to early exit").register(registry);
        answered = Counter.builder("offramp.inputs.answered").description("inputs answered by the scheduler").register(registry);
        expired = Counter.builder("offramp.deadline.expired").description("inputs dropped past their deadline").register(registry);
    }

    /** Records one HTTP request: route is the route's template (bounded cardinality), not the raw path. */
    void request(String route, int status, long nanos) {
        String key = route + ' ' + status;
        String code = Integer.toString(status);
        requests.computeIfAbsent(key, k -> Counter.builder("offramp.requests").tag("route", route).tag("status", code)
                .description("HTTP requests answered").register(registry)).increment();
        latency.computeIfAbsent(key, k -> Timer.builder("offramp.request.duration").tag("route", route).tag("status", code)
                .description("HTTP request latency").publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry)).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** The Prometheus text exposition (format 0.0.4). */
    public String scrape() {
        return registry.scrape();
    }

    /** One scheduler step: its batch size and tokens, under its layer. */
    @Override
    public void step(int layer, int samples, int tokens) {
        if (layer < 0 || layer >= batchSize.length) return; // a scheduler bug must not break metrics
        batchSize[layer].record(samples);
        batchTokens[layer].record(tokens);
    }

    /** One input answered: its exit layer and the layers it saved. */
    @Override
    public void answered(int exit, int layers) {
        exitLayer.record(exit);
        answered.increment();
        if (layers > exit) layersSaved.increment(layers - exit);
    }

    /** One input dropped past its deadline. */
    @Override
    public void expired() {
        expired.increment();
    }
}
