package dev.offramp.cli;

import dev.offramp.server.OfframpServer;
import dev.offramp.server.ServerConfig;
import dev.offramp.server.bench.LoadGenerator;
import dev.offramp.server.bench.ServeBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * ./offramp bench serve: the HTTP server under load, early exit against its full-depth peers in one run
 * ({@link ServeBenchmark}): each server in turn on loopback (early exit and Offramp at full depth, each with both
 * batchers, and ONNX Runtime at full depth), the model's task's dev inputs over the TEI route, a
 * closed-loop ramp to saturation, then Poisson open loop at 25/50/80 % of it. Tables on stdout, progress on
 * stderr, the summary line last. {@code --soak MINUTES} instead runs the early-exit continuous server at
 * 80 % for that long and checks every request id was answered exactly once and the heap stayed flat.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Load-test the HTTP server: closed-loop ramp (1, 2, 4, ... clients) to saturation, then Poisson open"
                + " loop at 25/50/80 %% of it, for early exit and Offramp at full depth (each with the continuous and the"
                + " dynamic batcher) and ONNX Runtime at full depth, one server at a time on loopback.",
                "Last line: summary: rps=... p50_ms=... p99_ms=... full_depth_rps=... onnxruntime_rps=..."
                        + " speedup_vs_onnxruntime=... lost=... errors=...",
                "--soak MINUTES: the early-exit server at 80 %% for that long; checks every request id is answered once"
                        + " and samples the heap after GC."})
final class BenchServeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "trained model folder")
    Path modelDir;

    @Option(names = "--policy", defaultValue = "beem-a", description = "early-exit policy (default: ${DEFAULT-VALUE})")
    String policy;

    @Option(names = "--max-drop", defaultValue = "0.5", description = "calibration target in points (default: ${DEFAULT-VALUE})")
    double maxDrop;

    @Option(names = "--seconds", defaultValue = "10", description = "length of each measured phase in seconds (default: ${DEFAULT-VALUE})")
    int seconds;

    @Option(names = "--warmup-seconds", defaultValue = "8", description = "unreported warm-up per server (default: ${DEFAULT-VALUE})")
    int warmupSeconds;

    @Option(names = "--max-warmup-seconds", defaultValue = "60", description = "the warm-up goes on while the JIT still compiles, up to this long (default: ${DEFAULT-VALUE})")
    int maxWarmupSeconds;

    @Option(names = "--max-concurrency", defaultValue = "256", description = "the closed-loop ramp's last level (default: ${DEFAULT-VALUE})")
    int maxConcurrency;

    @Option(names = "--ramp-patience", defaultValue = "2", description = "the ramp stops after this many levels in a row that raised throughput by 5 %% or less (default: ${DEFAULT-VALUE})")
    int rampPatience;

    @Option(names = "--grace-seconds", defaultValue = "30", description = "how long after a phase an answer may come before its request counts as lost (default: ${DEFAULT-VALUE})")
    int graceSeconds;

    @Option(names = "--data", description = "GLUE-layout TSV of the model's task to send (default: the task's dev split in the shared data folder, e.g. glue/SST-2/dev.tsv)")
    Path data;

    @Option(names = "--servers", split = ",", defaultValue = "early-exit,early-exit-dynamic,full-depth,full-depth-dynamic,onnxruntime",
            description = "which servers to load, in order (default: ${DEFAULT-VALUE})")
    List<String> servers;

    @Option(names = "--max-batch", defaultValue = "64", description = "server: most inputs per step or batch (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--max-wait-ms", defaultValue = "5", description = "server: the dynamic batcher's wait to fill a batch (default: ${DEFAULT-VALUE})")
    int maxWaitMs;

    @Option(names = "--soak", defaultValue = "0", description = "minutes of open loop at 80 %% of saturation against the early-exit continuous server, instead of the comparison")
    double soakMinutes;

    @Option(names = "--soak-sample-seconds", defaultValue = "30", description = "soak: heap sampling interval (default: ${DEFAULT-VALUE})")
    int soakSampleSeconds;

    @Override
    public Integer call() throws Exception {
        if (seconds < 1) throw new IllegalArgumentException("--seconds must be >= 1, got " + seconds);
        if (warmupSeconds < 1) throw new IllegalArgumentException("--warmup-seconds must be >= 1, got " + warmupSeconds);
        if (soakMinutes < 0) throw new IllegalArgumentException("--soak must be >= 0 minutes, got " + soakMinutes);
        ServeBenchmark.Settings settings = ServeBenchmark.Settings.defaults().withPhase(Duration.ofSeconds(seconds))
                .withWarmup(Duration.ofSeconds(warmupSeconds), Duration.ofSeconds(maxWarmupSeconds)).withMaxConcurrency(maxConcurrency)
                .withPatience(rampPatience).withGrace(Duration.ofSeconds(graceSeconds));
        Map<String, ServeBenchmark.Variant> known = variants();
        List<ServeBenchmark.Variant> run = new ArrayList<>();
        for (String s : soakMinutes > 0 ? List.of(ServeBenchmark.EARLY_EXIT) : servers) {
            ServeBenchmark.Variant v = known.get(s.strip());
            if (v == null) throw new IllegalArgumentException("unknown server '" + s + "' in --servers (known: " + String.join(", ", known.keySet()) + ")");
            run.add(v);
        }
        List<LoadGenerator.Input> inputs = ServeBenchmark.inputs(modelDir, data);
        System.out.printf(Locale.ROOT, "bench serve: model %s, %d inputs (%s), TEI /predict one input per request, %d s per phase,"
                        + " %d cores shared by client and server%n", modelDir, inputs.size(), data != null ? data : "the task's dev split",
                seconds, Runtime.getRuntime().availableProcessors());
        ServeBenchmark bench = new ServeBenchmark(settings, inputs, OfframpServer::start, System.out, System.err::println);
        if (soakMinutes > 0) {
            ServeBenchmark.SoakRun soak = bench.soak(run.getFirst(), Duration.ofMillis(Math.round(soakMinutes * 60_000)), 0.8,
                    Duration.ofSeconds(soakSampleSeconds));
            System.out.println(ServeBenchmark.soakSummary(soak));
            return 0;
        }
        Map<String, ServeBenchmark.ServerRun> results = new LinkedHashMap<>();
        for (ServeBenchmark.Variant v : run) results.put(v.name(), bench.run(v));
        System.out.println();
        ServeBenchmark.closingLines(results).forEach(System.out::println);
        return 0;
    }

    /**
     * The comparison's servers: the same front end and limits; the engine, policy and batcher differ. Full depth
     * runs with both batchers because either may be the faster at full depth; the summary takes the better.
     */
    private Map<String, ServeBenchmark.Variant> variants() {
        ServerConfig base = ServerConfig.defaults(modelDir).withPort(0);
        ServerConfig ee = base.withPolicy(policy, maxDrop).withEngine(ServerConfig.Engine.OFFRAMP);
        Map<String, ServeBenchmark.Variant> m = new LinkedHashMap<>();
        String criterion = policy + " at max-drop " + maxDrop;
        String batch = ", max batch " + maxBatch, wait = batch + ", max wait " + maxWaitMs + " ms";
        m.put(ServeBenchmark.EARLY_EXIT, new ServeBenchmark.Variant(ServeBenchmark.EARLY_EXIT,
                "early exit (" + criterion + "), layer-level continuous batching" + batch,
                ee.withBatcher(ServerConfig.Batcher.CONTINUOUS, maxBatch, maxWaitMs)));
        m.put(ServeBenchmark.EARLY_EXIT_DYNAMIC, new ServeBenchmark.Variant(ServeBenchmark.EARLY_EXIT_DYNAMIC,
                "early exit (" + criterion + "), plain dynamic batcher" + wait,
                ee.withBatcher(ServerConfig.Batcher.DYNAMIC, maxBatch, maxWaitMs)));
        m.put(ServeBenchmark.FULL_DEPTH, new ServeBenchmark.Variant(ServeBenchmark.FULL_DEPTH,
                "Offramp at full depth (policy full), layer-level continuous batching" + batch,
                base.withPolicy("full", maxDrop).withBatcher(ServerConfig.Batcher.CONTINUOUS, maxBatch, maxWaitMs)));
        m.put(ServeBenchmark.FULL_DEPTH_DYNAMIC, new ServeBenchmark.Variant(ServeBenchmark.FULL_DEPTH_DYNAMIC,
                "Offramp at full depth (policy full), plain dynamic batcher" + wait,
                base.withPolicy("full", maxDrop).withBatcher(ServerConfig.Batcher.DYNAMIC, maxBatch, maxWaitMs)));
        m.put(ServeBenchmark.ONNXRUNTIME, new ServeBenchmark.Variant(ServeBenchmark.ONNXRUNTIME,
                "ONNX Runtime at full depth, dynamic batcher" + wait,
                base.withPolicy("full", maxDrop).withEngine(ServerConfig.Engine.ONNXRUNTIME)
                        .withBatcher(ServerConfig.Batcher.DYNAMIC, maxBatch, maxWaitMs)));
        return m;
    }
}
