package dev.offramp.cli;

import dev.offramp.kernels.Parallel;
import dev.offramp.model.EncoderBatch;
import dev.offramp.onnxruntime.OnnxRuntimeEncoder;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * ./offramp bench engine: full-depth forward time of Offramp and of ONNX Runtime on the same inputs, in one run,
 * alternating blocks of repeats after warm-up; medians. Only one engine's threads are busy at a time.
 */
@Command(name = "engine", mixinStandardHelpOptions = true,
        description = "Time full-depth forward in Offramp and ONNX Runtime (same inputs, same run, medians).")
final class BenchEngineCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "bge-small-en-v1.5", description = "model (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--batch", defaultValue = "1", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--seq", defaultValue = "64", description = "tokens per input, specials included (default: ${DEFAULT-VALUE})")
    int seq;

    @Option(names = "--repeats", defaultValue = "0", description = "timed runs per engine (default: enough for ~20 s in total)")
    int repeats;

    @Option(names = "--warmup-seconds", defaultValue = "4", description = "warm-up per engine (default: ${DEFAULT-VALUE})")
    double warmupSeconds;

    @Option(names = "--no-onnxruntime", description = "time Offramp only (models without an ONNX file)")
    boolean noOrt;

    @Override
    public Integer call() {
        if (batch < 1 || seq < 2) throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--batch ≥ 1 and --seq ≥ 2 required");
        LoadedBackbone bb = LoadedBackbone.load(model);
        if (seq > bb.model().config().maxPositions()) {
            throw new IllegalArgumentException("--seq " + seq + " exceeds the model's " + bb.model().config().maxPositions() + " positions");
        }
        List<Encoding> inputs = syntheticInputs(bb, batch, seq, 42);
        EncoderBatch eb = bb.encoder().newBatch();
        Runnable offramp = () -> { bb.encoder().start(eb, inputs); bb.encoder().runToEnd(eb); };
        boolean withOrt = !noOrt && bb.model().onnxFile() != null;
        OnnxRuntimeEncoder ort = withOrt ? new OnnxRuntimeEncoder(bb.model().onnxFile()) : null;
        try {
            Runnable onnx = withOrt ? () -> ort.lastHidden(inputs) : null;
            double oneOfframp = warm(offramp, warmupSeconds);
            double oneOrt = withOrt ? warm(onnx, warmupSeconds) : oneOfframp;
            int n = repeats > 0 ? repeats : (int) Math.max(5, Math.min(200, 10_000 / (oneOfframp + oneOrt)));
            double[] tOff = new double[n], tOrt = new double[n];
            int block = Math.max(1, Math.min(5, n / 4));
            for (int i = 0; i < n; i += block) {
                int end = Math.min(n, i + block);
                Timing.settle();
                for (int r = i; r < end; r++) { long t0 = System.nanoTime(); offramp.run(); tOff[r] = Timing.millisSince(t0); }
                if (withOrt) {
                    Timing.settle();
                    for (int r = i; r < end; r++) { long t0 = System.nanoTime(); onnx.run(); tOrt[r] = Timing.millisSince(t0); }
                }
            }
            double mOff = Timing.median(tOff);
            double flops = forwardFlops(bb.model().config(), batch, seq);
            System.out.printf(java.util.Locale.ROOT, "model=%s batch=%d seq=%d repeats=%d threads=%d%n",
                    bb.model().name(), batch, seq, n, Parallel.threads());
            System.out.printf(java.util.Locale.ROOT, "offramp:     median %.3f ms  (%.1f GFLOP/s)  min %.3f ms%n",
                    mOff, flops / mOff / 1e6, Arrays.stream(tOff).min().orElse(0));
            if (withOrt) {
                double mOrt = Timing.median(tOrt);
                System.out.printf(java.util.Locale.ROOT, "onnxruntime: median %.3f ms  (%.1f GFLOP/s)  min %.3f ms%n",
                        mOrt, flops / mOrt / 1e6, Arrays.stream(tOrt).min().orElse(0));
                System.out.printf(java.util.Locale.ROOT, "summary: offramp_ms=%.3f onnxruntime_ms=%.3f ratio=%.3f%n", mOff, mOrt, mOff / mOrt);
            } else {
                System.out.printf(java.util.Locale.ROOT, "summary: offramp_ms=%.3f gflops=%.1f%n", mOff, flops / mOff / 1e6);
            }
        } finally {
            if (ort != null) ort.close();
        }
        return 0;
    }

    /** Runs the task repeatedly for the given time (JIT warm-up of exactly this shape); returns the last time in ms. */
    private static double warm(Runnable task, double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        double last;
        do {
            long t0 = System.nanoTime();
            task.run();
            last = Timing.millisSince(t0);
        } while (System.nanoTime() < end);
        return last;
    }

    /** [CLS] random word pieces [SEP], exactly seq tokens each; seeded. */
    static List<Encoding> syntheticInputs(LoadedBackbone bb, int batch, int seq, long seed) {
        Random rnd = new Random(seed);
        int v = bb.model().config().vocabSize();
        List<Encoding> out = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            int[] ids = new int[seq];
            ids[0] = bb.tokenizer().clsId();
            for (int t = 1; t < seq - 1; t++) ids[t] = 1000 + rnd.nextInt(v - 1000);
            ids[seq - 1] = bb.tokenizer().sepId();
            out.add(new Encoding(ids, new int[seq]));
        }
        return out;
    }

    /** Matrix-multiply FLOPs of a full forward: 2·(4H² + 2HI) per token, plus attention 4·T·H per token. */
    static double forwardFlops(dev.offramp.weights.BertConfig c, int batch, int seq) {
        double h = c.hidden(), i = c.intermediate();
        double perToken = 2 * (4 * h * h + 2 * h * i) + 4.0 * seq * h;
        return perToken * c.layers() * batch * seq;
    }
}
