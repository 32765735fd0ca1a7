package dev.offramp.cli;

import dev.offramp.server.ApiKeys;
import dev.offramp.server.OfframpServer;
import dev.offramp.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** ./offramp serve: the HTTP server (Open Inference Protocol v2 and TEI /predict) in front of a trained model. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a trained model over HTTP: Open Inference Protocol v2 (/v2/...), Hugging Face TEI (POST /predict),",
                "Prometheus metrics (GET /metrics), OpenAPI document (GET /openapi.json). SIGTERM or Ctrl-C drains: new",
                "requests get 503, accepted ones are answered, then the server exits."})
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "trained model folder")
    Path modelDir;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default: ${DEFAULT-VALUE}; 0.0.0.0 for every interface)")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "TCP port (default: ${DEFAULT-VALUE}; 0 = any free port)")
    int port;

    @Option(names = "--policy", defaultValue = "beem-a", description = "exit policy (default: ${DEFAULT-VALUE}); full = no early exit")
    String policy;

    @Option(names = "--max-drop", defaultValue = "0.5", description = "calibration target in points (default: ${DEFAULT-VALUE})")
    double maxDrop;

    @Option(names = "--engine", defaultValue = "offramp", description = "offramp | onnxruntime (ONNX Runtime at full depth on the backbone's published ONNX graph; default: ${DEFAULT-VALUE})")
    String engine;

    @Option(names = "--batcher", defaultValue = "continuous", description = "continuous (layer-level continuous batching) | dynamic (collect, then run to the end); default: ${DEFAULT-VALUE}")
    String batcher;

    @Option(names = "--max-batch", defaultValue = "64", description = "most inputs in one step or batch (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--max-wait-ms", defaultValue = "5", description = "dynamic batcher: how long to wait to fill a batch (default: ${DEFAULT-VALUE})")
    int maxWaitMs;

    @Option(names = "--queue-capacity", defaultValue = "1024", description = "inputs held before answering 429 (default: ${DEFAULT-VALUE})")
    int queueCapacity;

    @Option(names = "--deadline-ms", defaultValue = "10000", description = "a request's deadline unless it names one (default: ${DEFAULT-VALUE})")
    int deadlineMs;

    @Option(names = "--max-body-bytes", defaultValue = "1048576", description = "largest request body (default: ${DEFAULT-VALUE})")
    int maxBodyBytes;

    @Option(names = "--max-text-chars", defaultValue = "10000", description = "longest text in characters (default: ${DEFAULT-VALUE})")
    int maxTextChars;

    @Option(names = "--drain-timeout-ms", defaultValue = "30000", description = "how long a shutdown waits for accepted requests (default: ${DEFAULT-VALUE})")
    int drainTimeoutMs;

    @Option(names = "--api-key-file", description = "a file holding the API key clients must send (Authorization: Bearer KEY or X-API-Key: KEY)")
    Path apiKeyFile;

    @Override
    public Integer call() throws Exception {
        String key = apiKeyFile == null ? null : ApiKeys.read(apiKeyFile);
        ServerConfig config = new ServerConfig(modelDir, host, port, policy, maxDrop, ServerConfig.Engine.parse(engine),
                ServerConfig.Batcher.parse(batcher), maxBatch, maxWaitMs, queueCapacity, deadlineMs, maxBodyBytes,
                maxTextChars, key, drainTimeoutMs);
        OfframpServer server = OfframpServer.start(config).stopOnShutdown();
        var m = server.model();
        boolean ort = config.engine() == ServerConfig.Engine.ONNXRUNTIME;
        System.out.println("offramp: serving " + m.name() + " at " + server.url() + " (engine " + config.engine().optionName()
                + ", policy " + config.policy() + ", " + (ort ? "dynamic" : config.batcher().optionName()) + " batching;"
                + " OIP /v2/models/" + m.name() + "/infer, TEI /predict, /metrics, /openapi.json)");
        System.out.flush();
        new CountDownLatch(1).await();  // until SIGTERM/Ctrl-C: the shutdown hook drains and stops the server
        return 0;
    }
}
