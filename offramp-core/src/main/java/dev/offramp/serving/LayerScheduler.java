package dev.offramp.serving;

import dev.offramp.api.Offramp;
import dev.offramp.api.Prediction;
import dev.offramp.criteria.ExitCriterion;
import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.PolicySource;
import dev.offramp.exits.Pooling;
import dev.offramp.inference.EarlyExitRunner;
import dev.offramp.model.BertEncoder;
import dev.offramp.model.EncoderBatch;
import dev.offramp.tokenizer.Encoding;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Layer-level continuous batching: iteration-level scheduling, as LLM servers do for tokens, applied to an
 * encoder's layers.
 *
 * <p>Station l (0 ≤ l &lt; L) holds the samples that have run l layers and wait for layer l + 1; station 0 holds
 * fresh requests, which still need their embeddings. One scheduler thread repeats: take new requests into station
 * 0, answer the requests past their deadline, pick one station, gather its samples (up to
 * {@link Config#maxBatchSamples} / {@link Config#maxBatchTokens}, oldest first) into one ragged batch whatever
 * their arrival times, run that one layer on them (no padding at all), run the exit head and each sample's own
 * criterion state, answer the samples that exit at once, and park the others at the next station. The GEMMs stay
 * large while samples leave at different depths, because a station collects samples from several arrival waves.
 *
 * <p>Which station runs next: the one with the largest {@code min(n, maxBatchSamples) × age}, where n is the
 * station's sample count and age the time since its oldest sample was submitted (ties to the deeper station).
 * <ul>
 *   <li>Throughput: n favours big batches, and a station that has just run is refilled only as its predecessor
 *       runs, so cohorts that reach the same station merge instead of running as separate small batches.</li>
 *   <li>Latency: age is end-to-end, so samples that have been in the system longest (usually the deeper ones,
 *       close to their answer) win over a fresh crowd at station 0 of similar size; a parked station's score
 *       grows without bound while it waits, and every station in front of it feeds into it, so no sample
 *       starves. The product needs no tuning constant: it is invariant to the time unit.</li>
 * </ul>
 * The cost of gathering and scattering hidden states between steps is O(tokens × H) copies, small next to a
 * layer's O(tokens × H²) matrix products.
 *
 * <p>Answers: the same as {@link Offramp#classify} for each input (the same layer arithmetic per sample; the
 * criterion sees the same exit outputs). An input whose answer is ready is answered even if its deadline passed
 * during the step that produced it; deadlines are checked before every step. A failure in a step (it should not
 * happen: inputs are checked on submit) fails that step's requests and the scheduler goes on.
 */
public final class LayerScheduler implements InferenceScheduler {

    /**
     * @param capacity        inputs accepted and not yet answered, beyond which submit throws QueueFullException
     * @param maxBatchSamples the most samples one layer step runs
     * @param maxBatchTokens  the most tokens one layer step runs (a single longer sample still runs alone)
     */
    public record Config(int capacity, int maxBatchSamples, int maxBatchTokens) {
        public Config {
            if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
            if (maxBatchSamples < 1) throw new IllegalArgumentException("maxBatchSamples must be at least 1, got " + maxBatchSamples);
            if (maxBatchTokens < 1) throw new IllegalArgumentException("maxBatchTokens must be at least 1, got " + maxBatchTokens);
        }

        /** 1024 inputs, 64 samples or 8192 tokens per step: big enough GEMMs, a step of a few ms at most. */
        public static Config defaults() {
            return new Config(1024, 64, 8192);
        }

        public Config withCapacity(int capacity) { return new Config(capacity, maxBatchSamples, maxBatchTokens); }

        public Config withMaxBatchSamples(int n) { return new Config(capacity, n, maxBatchTokens); }

        public Config withMaxBatchTokens(int n) { return new Config(capacity, maxBatchSamples, n); }
    }

    private final Config config;
    private final RequestQueue queue;
    private final BertEncoder encoder;
    private final ExitHeads heads;
    private final Pooling pooling;
    private final ExitCriterion criterion;  // null: full depth
    private final PolicySource policy;
    private final List<String> labels;
    private final int layers, outputs, hidden;
    private final Thread thread;

    // scheduler-thread state
    private final ArrayDeque<Request>[] stations;
    private int inFlight;  // requests in the stations
    private final List<Request> fresh = new ArrayList<>();
    private final EncoderBatch batch;
    private final ExitHeads.Activations activations;
    private final Request[] step;
    private final List<Encoding> stepInputs = new ArrayList<>();
    private final float[][] stepStates;
    private final int[] stepLengths;
    private final boolean[] handled;
    private final float[] pooled, policyProbs;

    /** Starts the scheduler thread for a loaded model (its criterion, or full depth for policy full). */
    @SuppressWarnings("unchecked")
    public LayerScheduler(Offramp model, Config config, SchedulerListener listener) {
        this.config = Objects.requireNonNull(config, "config");
        MultiExitModel m = model.model();
        this.encoder = model.encoder();
        this.heads = m.heads();
        this.pooling = m.layout().pooling();
        this.criterion = model.criterion();
        this.policy = model.newPolicySource();
        this.labels = model.info().labels();
        this.layers = encoder.config().layers();
        this.outputs = heads.outputs;
        this.hidden = encoder.config().hidden();
        this.queue = new RequestQueue(config.capacity(), listener, "offramp-layer-scheduler");
        this.stations = new ArrayDeque[layers];
        for (int l = 0; l < layers; l++) stations[l] = new ArrayDeque<>();
        int b = config.maxBatchSamples();
        this.batch = encoder.newBatch();
        this.activations = new ExitHeads.Activations(heads, b);
        this.step = new Request[b];
        this.stepStates = new float[b][];
        this.stepLengths = new int[b];
        this.handled = new boolean[b];
        this.pooled = new float[b * hidden];
        this.policyProbs = new float[b];
        this.thread = new Thread(this::loop, "offramp-layer-scheduler");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public CompletableFuture<Prediction> submit(Encoding input, long deadlineNanos) {
        Objects.requireNonNull(input, "input");
        encoder.checkInput(input);  // refuse here what would fail a whole batch later
        Request r = new Request(input, System.nanoTime(), deadlineNanos);
        if (criterion != null) r.decider = criterion.start(layers, outputs);
        return queue.admit(r).future;
    }

    @Override
    public int pending() {
        return queue.pending();
    }

    @Override
    public boolean shutdown(Duration timeout) throws InterruptedException {
        return queue.shutdown(thread, timeout);
    }

    // ----------------------------------------------------------------------------------------------------
    // the scheduler thread

    private void loop() {
        while (true) {
            try {
                // with work in hand, only look for arrivals; idle, sleep until one comes (or shutdown)
                boolean open = queue.drainTo(fresh, inFlight > 0 ? 0 : Long.MAX_VALUE);
                for (Request r : fresh) stations[0].add(r);
                inFlight += fresh.size();
                fresh.clear();
                if (!open && inFlight == 0) return;
                long now = System.nanoTime();
                for (ArrayDeque<Request> s : stations) inFlight -= queue.expireLate(s, now);
                int l = pickStation(now);
                if (l >= 0) runStep(l);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Throwable t) {
                // never reached for a bad input (runStep fails its own batch); keep serving the rest
            }
        }
    }

    /** The station with the largest min(n, maxBatchSamples) × age of its oldest sample; -1 when all are empty. */
    private int pickStation(long now) {
        int best = -1;
        double bestScore = -1;
        for (int l = layers - 1; l >= 0; l--) {  // deeper first, so ties go to the deeper station
            ArrayDeque<Request> s = stations[l];
            if (s.isEmpty()) continue;
            long oldest = Long.MAX_VALUE;
            for (Request r : s) oldest = Math.min(oldest, r.submittedNanos);
            double score = (double) Math.min(s.size(), config.maxBatchSamples()) * (now - oldest + 1);
            if (score > bestScore) {
                bestScore = score;
                best = l;
            }
        }
        return best;
    }

    /** Runs layer l + 1 on the samples waiting at station l. */
    private void runStep(int l) {
        ArrayDeque<Request> station = stations[l];
        int b = 0, tokens = 0;
        while (!station.isEmpty() && b < step.length) {
            int len = station.peekFirst().input.length();
            if (b > 0 && tokens + len > config.maxBatchTokens()) break;
            Request r = station.pollFirst();
            step[b] = r;
            handled[b] = false;
            tokens += len;
            b++;
        }
        inFlight -= b;
        try {
            if (l == 0) {
                stepInputs.clear();
                for (int i = 0; i < b; i++) stepInputs.add(step[i].input);
                encoder.start(batch, stepInputs);
            } else {
                for (int i = 0; i < b; i++) {
                    stepStates[i] = step[i].state;
                    stepLengths[i] = step[i].input.length();
                }
                batch.resume(stepStates, stepLengths, b, l);
            }
            encoder.layer(batch);
            int layer = l + 1;
            queue.step(layer, b, tokens);
            if (criterion == null && layer < layers) {
                // full depth: no exit runs before the last layer
                for (int pos = 0; pos < b; pos++) park(pos, layer);
            } else {
                decide(b, layer);
            }
        } catch (Throwable t) {
            for (int i = 0; i < b; i++) if (!handled[i]) queue.fail(step[i], t);
        } finally {
            for (int i = 0; i < b; i++) {
                step[i] = null;
                stepStates[i] = null;
            }
        }
    }

    /** Exit head and criterion on every sample of the step: answer those that exit, park the others. */
    private void decide(int b, int layer) {
        pooling.pool(batch, hidden, pooled, 0);
        heads.forward(activations, layer, pooled, 0, b, 0f, null);
        if (policy != null) policy.exitProbabilities(layer, pooled, b, policyProbs);
        float[] out = activations.probs();
        for (int pos = 0; pos < b; pos++) {
            Request r = step[batch.sampleId(pos)];
            // the decider sees every exit, the last included, as in EarlyExitRunner: same statistic, same answer
            boolean exit = r.decider == null ? layer == layers
                    : r.decider.observe(layer, out, pos * outputs, policy != null ? policyProbs[pos] : Float.NaN);
            if (exit) {
                float confidence = r.decider == null ? Float.NaN : (float) r.decider.statistic();
                handled[batch.sampleId(pos)] = true;
                queue.answer(r, Prediction.of(out, pos * outputs, outputs, layer, layers, confidence, labels));
            } else {
                park(pos, layer);
            }
        }
    }

    /** Saves the sample at batch position pos (which has run {@code layer} layers) at station {@code layer}. */
    private void park(int pos, int layer) {
        int i = batch.sampleId(pos);
        Request r = step[i];
        if (r.state == null) r.state = new float[batch.stateFloats(r.input.length())];
        batch.storeHidden(pos, r.state);
        stations[layer].add(r);
        inFlight++;
        handled[i] = true;
    }
}
