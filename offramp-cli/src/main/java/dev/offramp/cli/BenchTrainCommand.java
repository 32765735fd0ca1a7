package dev.offramp.cli;

import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.ExitLayout;
import dev.offramp.exits.ExitLoss;
import dev.offramp.exits.JointExitStep;
import dev.offramp.exits.Pooling;
import dev.offramp.kernels.Parallel;
import dev.offramp.model.EncoderTrainer;
import dev.offramp.model.ParameterSet;
import dev.offramp.model.TrainingStep;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.training.AdamW;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * ./offramp bench train: one joint training step (encoder forward and backward, every exit's loss and backward,
 * AdamW) on the real backbone, timed after warm-up; medians. The training throughput of `train --mode joint`.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Time joint training steps (backbone + exits, forward + backward + AdamW): tokens/s and GFLOP/s.")
final class BenchTrainCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "bge-small-en-v1.5", description = "backbone (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--batch", defaultValue = "32", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--seq", defaultValue = "64", description = "tokens per input (default: ${DEFAULT-VALUE})")
    int seq;

    @Option(names = "--steps", defaultValue = "8", description = "timed steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--dropout", defaultValue = "0.1", description = "encoder dropout (default: ${DEFAULT-VALUE})")
    float dropout;

    @Override
    public Integer call() {
        LoadedBackbone bb = LoadedBackbone.load(model);
        var c = bb.model().config();
        List<Encoding> inputs = BenchEngineCommand.syntheticInputs(bb, batch, seq, 7);
        EncoderTrainer trainer = new EncoderTrainer(bb.model().weights(), new EncoderTrainer.Options(dropout, dropout, 1, false, 0));
        ExitHeads heads = ExitHeads.create(c.hidden(), c.layers(), 2, new ExitLayout(Pooling.MEAN, false, true), null, 1);
        ParameterSet params = new ParameterSet();
        trainer.addParameters(params);
        params.add("exits", heads.params(), heads.grads(), false);
        AdamW adam = new AdamW(params, AdamW.Options.defaults());
        JointExitStep exits = new JointExitStep(heads, batch);
        int l = c.layers(), h = c.hidden(), n = batch * seq;
        float[][] dHidden = new float[l + 1][];
        for (int i = 1; i <= l; i++) dHidden[i] = new float[n * h];
        int[] labels = new int[batch], offsets = new int[batch], lengths = new int[batch];
        Random r = new Random(3);
        for (int i = 0; i < batch; i++) labels[i] = r.nextInt(2);
        float[][] hidden = new float[l][];
        float[] weights = ExitLoss.jointWeights(l);
        double[] times = new double[steps];
        for (int it = -3; it < steps; it++) {
            long t0 = System.nanoTime();
            TrainingStep s = trainer.forward(inputs, true);
            for (int b = 0; b < batch; b++) { offsets[b] = s.offset(b); lengths[b] = s.length(b); }
            for (int i = 1; i <= l; i++) { hidden[i - 1] = s.layerOutput(i); Arrays.fill(dHidden[i], 0f); }
            exits.run(hidden, offsets, lengths, batch, labels, null, weights, 0.1f, new java.util.SplittableRandom(it + 10),
                    Arrays.copyOfRange(dHidden, 1, l + 1));
            trainer.backward(s, dHidden);
            adam.step(1e-5);
            params.zeroGradients();
            if (it >= 0) times[it] = Timing.millisSince(t0) / 1e3;
        }
        double t = Timing.median(times);
        double perToken = 2.0 * l * (4.0 * h * h + 2.0 * h * c.intermediate()) + 2.0 * l * 2.0 * seq * h;
        double gflops = 3 * perToken * n / t / 1e9;
        System.out.printf(Locale.ROOT, "model=%s batch=%d seq=%d threads=%d dropout=%.2f: median step %.3f s over %d steps%n",
                bb.model().name(), batch, seq, Parallel.threads(), dropout, t, steps);
        System.out.printf(Locale.ROOT, "summary: tokens_per_s=%.0f gflops=%.1f step_s=%.3f%n", n / t, gflops, t);
        return 0;
    }
}
