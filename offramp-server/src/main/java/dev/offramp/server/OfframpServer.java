package dev.offramp.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.api.Prediction;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Offramp HTTP server: Open Inference Protocol v2 ({@code /v2/...}), Hugging Face TEI ({@code POST /predict}),
 * Prometheus metrics ({@code GET /metrics}) and an OpenAPI 3 document ({@code GET /openapi.json}), in front of one
 * {@link dev.offramp.serving.InferenceScheduler} that batches every client's inputs together.
 *
 * <p>Why Javalin (7, on Jetty 12): it is small (a thin layer over Jetty, a few thousand lines), embeds in a plain
 * {@code main} with no container or annotation scanning, runs request handlers on virtual threads, takes a
 * {@link CompletableFuture} as an asynchronous answer (so a request waiting for the scheduler holds no thread),
 * and a test starts it on an ephemeral port in milliseconds. Helidon SE 4 would do as well; Javalin's smaller
 * surface and plain-Jetty internals (graceful stop, request size checks) decided it.
 *
 * <p>Shutdown ({@link #stop()}, also run by the JVM's shutdown hook on SIGTERM): new requests get 503 at once;
 * every request already accepted is answered (the scheduler keeps running until they are); then the scheduler
 * and Jetty stop. A request is either refused with 503 before it reaches the scheduler or answered exactly once.
 */
public final class OfframpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OfframpServer.class);
    private static final String ROUTE_ATTR = "offramp.route";
    private static final String START_ATTR = "offramp.start";
    private static final String COUNTED_ATTR = "offramp.counted";
    /** Pending TCP connections the listening socket holds before the kernel refuses more. */
    private static final int ACCEPT_QUEUE = 1024;
    /** A request id the client may send; the server echoes it on the answer. */
    public static final String REQUEST_ID_HEADER = "X-Request-Id";

    private final ServerConfig config;
    private final ServedModel model;
    private final ServerMetrics metrics;
    private final ApiKeys apiKey;
    private final Runnable onClose;
    private final byte[] openApi;
    /** Finishes answers off the scheduler's thread: its listener contract says it must not be held up. */
    private final ExecutorService responders = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicBoolean stopped = new AtomicBoolean();
    private volatile boolean drained;
    private final Javalin app;
    private Thread shutdownHook;

    private OfframpServer(ServerConfig config, ServedModel model, ServerMetrics metrics, Runnable onClose) {
        this.config = config;
        this.model = model;
        this.metrics = metrics;
        this.onClose = onClose;
        this.apiKey = config.apiKey() == null ? null : new ApiKeys(config.apiKey());
        try (InputStream in = OfframpServer.class.getResourceAsStream("openapi.json")) {
            if (in == null) throw new IllegalStateException("openapi.json is missing from the server's resources");
            openApi = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.http.maxRequestSize = config.maxBodyBytes();
            cfg.http.prefer405over404 = true;
            // our own connector only for its accept queue: Java's default backlog (50) overflows when a hundred clients
            // connect at once, and the kernel then drops handshakes that the client already counts as open
            cfg.jetty.addConnector((server, httpConfig) -> {
                ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(httpConfig));
                connector.setHost(config.host());
                connector.setPort(config.port());
                connector.setAcceptQueueSize(ACCEPT_QUEUE);
                return connector;
            });
            cfg.jetty.modifyServer(server -> {
                // Jetty's own graceful stop covers the last bytes of answers still being written when we stop it
                server.insertHandler(new GracefulHandler());
                server.setStopTimeout(Math.max(1_000, config.drainTimeoutMs()));
            });
            cfg.requestLogger.http((ctx, ms) -> finished(ctx));
            cfg.routes.before(this::admit);
            cfg.routes.get("/v2/health/live", route("/v2/health/live", ctx -> json(ctx, 200, obj().put("live", true))));
            cfg.routes.get("/v2/health/ready", route("/v2/health/ready", ctx -> json(ctx, 200, obj().put("ready", true))));
            cfg.routes.get("/v2", route("/v2", this::serverMetadata));
            cfg.routes.get("/v2/models/{name}", route("/v2/models/{name}", ctx -> json(ctx, 200, OipProtocol.metadata(model(ctx)))));
            cfg.routes.get("/v2/models/{name}/versions/{version}", route("/v2/models/{name}/versions/{version}",
                    ctx -> json(ctx, 200, OipProtocol.metadata(model(ctx)))));
            cfg.routes.get("/v2/models/{name}/ready", route("/v2/models/{name}/ready", ctx -> {
                model(ctx);
                json(ctx, 200, obj().put("name", model.name()).put("ready", true));
            }));
            cfg.routes.get("/v2/models/{name}/versions/{version}/ready", route("/v2/models/{name}/versions/{version}/ready", ctx -> {
                model(ctx);
                json(ctx, 200, obj().put("name", model.name()).put("ready", true));
            }));
            cfg.routes.post("/v2/models/{name}/infer", route("/v2/models/{name}/infer", this::oipInfer));
            cfg.routes.post("/v2/models/{name}/versions/{version}/infer", route("/v2/models/{name}/versions/{version}/infer", this::oipInfer));
            cfg.routes.post("/predict", route("/predict", this::teiPredict));
            cfg.routes.get("/metrics", route("/metrics", ctx -> {
                ctx.status(200).contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape());
            }));
            cfg.routes.get("/openapi.json", route("/openapi.json", ctx -> ctx.status(200).contentType("application/json").result(openApi)));
            cfg.routes.exception(ApiError.class, (e, ctx) -> error(ctx, e));
            cfg.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, new ApiError(e.getStatus(), javalinMessage(ctx, e))));
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                LOG.warn("request " + ctx.method() + " " + ctx.path() + " failed: " + e);
                error(ctx, new ApiError(500, "internal error: " + e));
            });
        });
    }

    /**
     * Starts a server for a model folder: loads the model, builds the engine and the batcher the config names,
     * binds, and returns once it answers.
     */
    public static OfframpServer start(ServerConfig config) throws IOException {
        ModelLoader.Loaded loaded = ModelLoader.load(config);
        return start(config, loaded.model(), loaded.metrics(), loaded.onClose());
    }

    /**
     * Starts a server in front of a model the caller built (tests, embedders). Its scheduler's listener, if the
     * caller wants metrics from it, should be {@link #metrics()}; the scheduler is shut down by {@link #stop()}.
     */
    public static OfframpServer start(ServerConfig config, ServedModel model) {
        return start(config, model, new ServerMetrics(model.layers(), () -> model.scheduler().pending()), () -> {});
    }

    /** As {@link #start(ServerConfig, ServedModel)}, with the metrics the scheduler already reports to. */
    public static OfframpServer start(ServerConfig config, ServedModel model, ServerMetrics metrics, Runnable onClose) {
        OfframpServer s = null;
        try {
            s = new OfframpServer(config, model, metrics, onClose);
            s.app.start();
            return s;
        } catch (RuntimeException | Error e) {
            // e.g. the port is taken: let go of the scheduler's thread and the model, not just the socket
            try {
                model.scheduler().shutdown(Duration.ZERO);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            } finally {
                if (s != null) s.responders.shutdown();
                onClose.run();
            }
            throw e;
        }
    }

    /** The bound port (the chosen one when the config said 0). */
    public int port() {
        return app.port();
    }

    /** The base URL, e.g. http://127.0.0.1:8080. */
    public String url() {
        String h = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + h + ":" + port();
    }

    /** What this server serves. */
    public ServedModel model() {
        return model;
    }

    /** The metrics /metrics shows (pass them as the scheduler's listener to get its series). */
    public ServerMetrics metrics() {
        return metrics;
    }

    /** Requests accepted and not yet answered. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Runs {@link #stop()} when the JVM is asked to exit (SIGTERM, Ctrl-C). */
    public OfframpServer stopOnShutdown() {
        shutdownHook = new Thread(() -> {
            LOG.info("offramp: shutting down: refusing new requests, answering the " + inFlight.get() + " accepted ones");
            boolean all = stop();
            LOG.info("offramp: stopped" + (all ? "; every accepted request was answered" : "; the drain timed out"));
        }, "offramp-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        return this;
    }

    /**
     * Stops accepting (new requests get 503), waits up to the drain timeout for every accepted request to be
     * answered, then stops the scheduler and Jetty. Returns true when nothing accepted was left unanswered.
     * Idempotent; the second call returns at once.
     */
    public boolean stop() {
        if (!stopped.compareAndSet(false, true)) return drained;
        draining.set(true);
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.drainTimeoutMs());
        while (inFlight.get() > 0 && System.nanoTime() < end) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        boolean ok = inFlight.get() == 0;
        try {
            long left = Math.max(0, end - System.nanoTime());
            ok &= model.scheduler().shutdown(Duration.ofNanos(left));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ok = false;
        }
        app.stop();
        responders.shutdown();
        onClose.run();
        if (shutdownHook != null && !Thread.currentThread().equals(shutdownHook)) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is already exiting
            }
        }
        drained = ok;
        return ok;
    }

    @Override
    public void close() {
        stop();
    }

    // ----------------------------------------------------------------------------------------------------
    // request life cycle

    /** Before every route: count the request in, refuse it while draining, check the API key. */
    private void admit(Context ctx) {
        ctx.attribute(START_ATTR, System.nanoTime());
        // echo the client's request id (the usual X-Request-Id convention) on every answer, errors included, so a
        // client (the load benchmark) can check each answer belongs to its request; long ids are not reflected
        String requestId = ctx.header(REQUEST_ID_HEADER);
        if (requestId != null && requestId.length() <= 128) ctx.header(REQUEST_ID_HEADER, requestId);
        // increment first, then read the flag: a request that saw draining=false is counted before stop() waits
        inFlight.incrementAndGet();
        if (draining.get()) {
            inFlight.decrementAndGet();  // at once: a flood of refused requests must not hold the drain open
            throw new ApiError(503, "the server is shutting down and accepts no new requests", "1");
        }
        ctx.attribute(COUNTED_ATTR, Boolean.TRUE);
        if (apiKey != null && !isHealth(ctx.path()) && !apiKey.accepts(ctx.header("Authorization"), ctx.header("X-API-Key"))) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiError(401, "missing or wrong API key: send it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'");
        }
    }

    private static boolean isHealth(String path) {
        return path.equals("/v2/health/live") || path.equals("/v2/health/ready");
    }

    /** After the answer was written (Javalin's request logger): metrics, and count the request out. */
    private void finished(Context ctx) {
        Long start = ctx.attribute(START_ATTR);
        String route = ctx.attribute(ROUTE_ATTR);
        metrics.request(route != null ? route : "unmatched", ctx.statusCode(), start == null ? 0 : System.nanoTime() - start);
        if (ctx.attribute(COUNTED_ATTR) != null) inFlight.decrementAndGet();
    }

    /** Tags the request with its route template (bounded metric labels) before running the handler. */
    private Handler route(String template, Handler h) {
        return ctx -> {
            ctx.attribute(ROUTE_ATTR, template);
            h.handle(ctx);
        };
    }

    private ServedModel model(Context ctx) {
        String name = ctx.pathParam("name");
        if (!name.equals(model.name())) {
            throw new ApiError(404, "unknown model '" + name + "': this server serves '" + model.name() + "'");
        }
        String version = ctx.pathParamMap().get("version");
        if (version != null && !version.equals(model.version())) {
            throw new ApiError(404, "unknown version '" + version + "' of model '" + name + "': it has version '" + model.version() + "'");
        }
        return model;
    }

    private void serverMetadata(Context ctx) {
        ObjectNode o = obj().put("name", "offramp").put("version", OfframpServer.class.getPackage().getImplementationVersion() == null
                ? "dev" : OfframpServer.class.getPackage().getImplementationVersion());
        o.putArray("extensions");
        json(ctx, 200, o);
    }

    private void oipInfer(Context ctx) {
        long arrival = ctx.<Long>attribute(START_ATTR);
        ServedModel m = model(ctx);
        JsonNode body = RequestBodies.readObject(ctx, config.maxBodyBytes());
        OipProtocol.InferRequest req = OipProtocol.parse(body, m);
        long deadline = RequestBodies.deadlineNanos(ctx, arrival, req.deadlineField(), "parameters.deadline_ms", config.defaultDeadlineMs());
        int base = body.get("inputs").size() == 2 && OipProtocol.TEXT_PAIR.equals(body.get("inputs").get(0).path("name").asText(null)) ? 1 : 0;
        answer(ctx, InferenceCall.submit(m, req.inputs(), req.truncate(), deadline, config.maxTextChars(),
                config.queueCapacity(), i -> "inputs[" + base + "].data[" + i + "]"), p -> OipProtocol.response(m, req, p));
    }

    private void teiPredict(Context ctx) {
        long arrival = ctx.<Long>attribute(START_ATTR);
        JsonNode body = RequestBodies.readObject(ctx, config.maxBodyBytes());
        TeiProtocol.PredictRequest req = TeiProtocol.parse(body);
        long deadline = RequestBodies.deadlineNanos(ctx, arrival, req.deadlineField(), "deadline_ms", config.defaultDeadlineMs());
        answer(ctx, InferenceCall.submit(model, req.inputs(), req.truncate(), deadline, config.maxTextChars(),
                config.queueCapacity(), i -> req.batch() ? "inputs[" + i + "]" : "inputs"), p -> TeiProtocol.response(model, req, p));
    }

    /** Answers asynchronously: the request holds no thread while the scheduler works. */
    private void answer(Context ctx, CompletableFuture<Prediction[]> predictions, Function<Prediction[], JsonNode> body) {
        ctx.future(() -> predictions.handleAsync((p, err) -> {
            if (err != null) error(ctx, InferenceCall.translate(err));
            else json(ctx, 200, body.apply(p));
            return null;
        }, responders));
    }

    // ----------------------------------------------------------------------------------------------------
    // answers

    private static ObjectNode obj() {
        return RequestBodies.JSON.createObjectNode();
    }

    private static void json(Context ctx, int status, JsonNode body) {
        try {
            ctx.status(status).contentType("application/json").result(RequestBodies.JSON.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not write the answer: " + e.getMessage(), e);
        }
    }

    private static void error(Context ctx, ApiError e) {
        if (e.retryAfterSeconds != null) ctx.header("Retry-After", e.retryAfterSeconds);
        json(ctx, e.status, obj().put("error", e.getMessage()));
    }

    private String javalinMessage(Context ctx, HttpResponseException e) {
        return switch (e.getStatus()) {
            case 404 -> "no route " + ctx.method() + " " + ctx.path() + " (see GET /openapi.json for the routes)";
            case 405 -> "method " + ctx.method() + " is not allowed on " + ctx.path() + " (see GET /openapi.json)";
            case 413 -> "the request body is larger than " + config.maxBodyBytes() + " bytes (server option --max-body-bytes)";
            default -> e.getMessage();
        };
    }
}
