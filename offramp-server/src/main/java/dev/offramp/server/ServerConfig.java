package dev.offramp.server;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Everything {@code ./offramp serve} can be told. Validates itself: a bad value fails at start-up with a message
 * naming the option, not on the first request.
 *
 * @param modelDir          the trained model folder (what {@code ./offramp train} wrote)
 * @param host              the address to bind; 127.0.0.1 unless told otherwise, so nothing is exposed by accident
 * @param port              the TCP port; 0 picks a free one ({@link OfframpServer#port()} says which)
 * @param policy            the exit policy (beem-a, max-prob, entropy, patience, ...), or "full" for full depth
 * @param maxDrop           the calibration target in accuracy points that picks the policy's calibrated settings
 * @param engine            who runs the encoder: Offramp, or ONNX Runtime at full depth (the comparison peer; the
 *                          policy is then always "full", whatever was asked)
 * @param batcher           layer-level continuous batching, or the plain dynamic batcher (collect, then run)
 * @param maxBatch          the most inputs one step (or one dynamic batch) takes
 * @param maxWaitMs         how long the dynamic batcher waits to fill a batch
 * @param queueCapacity     inputs the scheduler holds (waiting or running) before it answers 429
 * @param defaultDeadlineMs a request's deadline when it names none (header X-Deadline-Ms or a body field)
 * @param maxBodyBytes      the largest request body accepted (413 above)
 * @param maxTextChars      the longest text accepted, in characters (400 above, unless the request asks to truncate)
 * @param apiKey            the key clients must send (Authorization: Bearer KEY or X-API-Key), or null for none
 * @param drainTimeoutMs    how long a shutdown waits for accepted requests to be answered
 */
public record ServerConfig(Path modelDir, String host, int port, String policy, double maxDrop, Engine engine,
                           Batcher batcher, int maxBatch, int maxWaitMs, int queueCapacity, int defaultDeadlineMs,
                           int maxBodyBytes, int maxTextChars, String apiKey, int drainTimeoutMs) {

    /** Who runs the encoder behind the HTTP front. */
    public enum Engine {
        /** Offramp's own engine: early exit, or full depth with policy "full". */
        OFFRAMP,
        /** ONNX Runtime on the backbone's published .onnx at full depth, then the model's last exit. */
        ONNXRUNTIME;

        /** The engine named on the command line (case-insensitive); IllegalArgumentException naming the known ones. */
        public static Engine parse(String s) {
            for (Engine e : values()) if (e.name().equalsIgnoreCase(s)) return e;
            throw new IllegalArgumentException("unknown engine '" + s + "' (known: offramp, onnxruntime)");
        }

        /** The command-line name. */
        public String optionName() { return name().toLowerCase(Locale.ROOT); }
    }

    /** How inputs from many requests are batched. */
    public enum Batcher {
        /** Layer-level continuous batching: every step runs one layer on all samples waiting at it. */
        CONTINUOUS,
        /** Collect up to maxBatch inputs or maxWaitMs, then run the batch to the end. */
        DYNAMIC;

        /** The batcher named on the command line (case-insensitive); IllegalArgumentException naming the known ones. */
        public static Batcher parse(String s) {
            for (Batcher b : values()) if (b.name().equalsIgnoreCase(s)) return b;
            throw new IllegalArgumentException("unknown batcher '" + s + "' (known: continuous, dynamic)");
        }

        /** The command-line name. */
        public String optionName() { return name().toLowerCase(Locale.ROOT); }
    }

    /** Checks every field; with the ONNX Runtime engine the policy becomes full. */
    public ServerConfig {
        if (modelDir == null) throw new IllegalArgumentException("modelDir must be set (--model DIR)");
        if (host == null || host.isBlank()) throw new IllegalArgumentException("host must be set (--host)");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535 (0 = any free port), got " + port);
        if (policy == null || policy.isBlank()) throw new IllegalArgumentException("policy must be set (--policy)");
        if (!(maxDrop >= 0)) throw new IllegalArgumentException("max-drop must be >= 0 points, got " + maxDrop);
        if (engine == null) throw new IllegalArgumentException("engine must be set (--engine offramp|onnxruntime)");
        if (batcher == null) throw new IllegalArgumentException("batcher must be set (--batcher continuous|dynamic)");
        positive("max-batch", maxBatch);
        if (maxWaitMs < 0) throw new IllegalArgumentException("max-wait-ms must be >= 0, got " + maxWaitMs);
        positive("queue-capacity", queueCapacity);
        positive("deadline-ms", defaultDeadlineMs);
        positive("max-body-bytes", maxBodyBytes);
        positive("max-text-chars", maxTextChars);
        if (drainTimeoutMs < 0) throw new IllegalArgumentException("drain-timeout-ms must be >= 0, got " + drainTimeoutMs);
        if (apiKey != null && apiKey.isBlank()) throw new IllegalArgumentException("the API key is empty");
        if (engine == Engine.ONNXRUNTIME && !policy.equals("full")) {
            // ONNX Runtime has no exits inside its graph: it can only be the full-depth peer
            policy = "full";
        }
    }

    private static void positive(String name, int v) {
        if (v <= 0) throw new IllegalArgumentException(name + " must be > 0, got " + v);
    }

    /** The defaults of {@code ./offramp serve} for a model folder. */
    public static ServerConfig defaults(Path modelDir) {
        return new ServerConfig(modelDir, "127.0.0.1", 8080, "beem-a", 0.5, Engine.OFFRAMP, Batcher.CONTINUOUS,
                64, 5, 1024, 10_000, 1 << 20, 10_000, null, 30_000);
    }

    /** The same config bound to another address. */
    public ServerConfig withHost(String h) { return new ServerConfig(modelDir, h, port, policy, maxDrop, engine, batcher, maxBatch, maxWaitMs, queueCapacity, defaultDeadlineMs, maxBodyBytes, maxTextChars, apiKey, drainTimeoutMs); }

    /** The same config on another port (0: any free one). */
    public ServerConfig withPort(int p) { return new ServerConfig(modelDir, host, p, policy, maxDrop, engine, batcher, maxBatch, maxWaitMs, queueCapacity, defaultDeadlineMs, maxBodyBytes, maxTextChars, apiKey, drainTimeoutMs); }

    /** The same config with another exit policy and calibration target. */
    public ServerConfig withPolicy(String p, double drop) { return new ServerConfig(modelDir, host, port, p, drop, engine, batcher, maxBatch, maxWaitMs, queueCapacity, defaultDeadlineMs, maxBodyBytes, maxTextChars, apiKey, drainTimeoutMs); }

    /** The same config on another engine (ONNX Runtime implies policy full). */
    public ServerConfig withEngine(Engine e) { return new ServerConfig(modelDir, host, port, policy, maxDrop, e, batcher, maxBatch, maxWaitMs, queueCapacity, defaultDeadlineMs, maxBodyBytes, maxTextChars, apiKey, drainTimeoutMs); }

    /** The same config with another batcher, batch size and (dynamic) wait. */
    public ServerConfig withBatcher(Batcher b, int batch, int waitMs) { return new ServerConfig(modelDir, host, port, policy, maxDrop, engine, b, batch, waitMs, queueCapacity, defaultDeadlineMs, maxBodyBytes, maxTextChars, apiKey, drainTimeoutMs); }

    /** The same config with other queue capacity, default deadline, body and text limits. */
    public ServerConfig withLimits(int capacity, int deadlineMs, int bodyBytes, int textChars) { return new ServerConfig(modelDir, host, port, policy, maxDrop, engine, batcher, maxBatch, maxWaitMs, capacity, deadlineMs, bodyBytes, textChars, apiKey, drainTimeoutMs); }

    /** The same config with an API key (null: none). */
    public ServerConfig withApiKey(String key) { return new ServerConfig(modelDir, host, port, policy, maxDrop, engine, batcher, maxBatch, maxWaitMs, queueCapacity, defaultDeadlineMs, maxBodyBytes, maxTextChars, key, drainTimeoutMs); }

    /** The same config with another drain timeout. */
    public ServerConfig withDrainTimeoutMs(int ms) { return new ServerConfig(modelDir, host, port, policy, maxDrop, engine, batcher, maxBatch, maxWaitMs, queueCapacity, defaultDeadlineMs, maxBodyBytes, maxTextChars, apiKey, ms); }

    /** The record without the API key, for logs. */
    @Override
    public String toString() {
        return "ServerConfig[model=" + modelDir + ", host=" + host + ", port=" + port + ", policy=" + policy
                + ", maxDrop=" + maxDrop + ", engine=" + engine.optionName() + ", batcher=" + batcher.optionName()
                + ", maxBatch=" + maxBatch + ", maxWaitMs=" + maxWaitMs + ", queueCapacity=" + queueCapacity
                + ", deadlineMs=" + defaultDeadlineMs + ", maxBodyBytes=" + maxBodyBytes + ", maxTextChars=" + maxTextChars
                + ", apiKey=" + (apiKey == null ? "none" : "set") + "]";
    }
}
