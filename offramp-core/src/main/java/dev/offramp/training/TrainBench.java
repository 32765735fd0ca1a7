package dev.offramp.training;

import dev.offramp.kernels.Parallel;
import dev.offramp.model.BertConfig;
import dev.offramp.model.EncoderTrainer;
import dev.offramp.model.TrainingStep;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertWeights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Times encoder forward + backward on bge-small-shaped random weights (H 384, 12 layers, 12 heads, I 1536):
 * {@code java --add-modules jdk.incubator.vector -cp offramp-core.jar dev.offramp.training.TrainBench [batch seq
 * iterations layers dropout]} (defaults 32 64 5 12 0.1). Prints tokens/s and achieved GFLOP/s counting the GEMMs
 * (2·params-per-token FLOP forward, twice that backward) plus attention. The machine is shared: an estimate.
 */
public final class TrainBench {
    private TrainBench() {}

    public static void main(String[] args) {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 32;
        int seq = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int iterations = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int layers = args.length > 3 ? Integer.parseInt(args[3]) : 12;
        float dropout = args.length > 4 ? Float.parseFloat(args[4]) : 0.1f;
        BertConfig c = new BertConfig(30522, 384, layers, 12, 1536, 512, 2, 1e-12f, BertConfig.Activation.GELU_EXACT);
        BertWeights w = randomWeights(c, 1);
        Random r = new Random(2);
        List<Encoding> inputs = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            int[] ids = new int[seq];
            for (int t = 0; t < seq; t++) ids[t] = r.nextInt(c.vocabSize());
            inputs.add(new Encoding(ids, new int[seq]));
        }
        EncoderTrainer trainer = new EncoderTrainer(w, new EncoderTrainer.Options(dropout, dropout, 3L, false, 0));
        ParameterSet params = new ParameterSet();
        trainer.addParameters(params);
        AdamW opt = new AdamW(params, AdamW.Options.defaults());
        float[][] dOut = new float[layers + 1][];
        int n = batch * seq, h = c.hidden();
        for (int l = 1; l <= layers; l++) dOut[l] = gauss(r, n * h, 1e-3f); // every layer read, as with exits

        long tokens = (long) n;
        double gemmFlopPerToken = 2.0 * layers * (4.0 * h * h + 2.0 * h * c.intermediate());
        double attFlopPerToken = 2.0 * layers * 2.0 * seq * h; // QKᵀ and PV
        double flop = 3 * tokens * (gemmFlopPerToken + attFlopPerToken);
        System.out.printf("bge-small shape: %d layers, batch %d x seq %d = %d tokens, %d threads, dropout %.2f%n",
                layers, batch, seq, n, Parallel.threads(), dropout);
        System.out.printf("work per step: %.1f MFLOP/token forward (GEMMs %.1f + attention %.1f), x3 with backward%n",
                (gemmFlopPerToken + attFlopPerToken) / 1e6, gemmFlopPerToken / 1e6, attFlopPerToken / 1e6);
        double[] fwd = new double[iterations], bwd = new double[iterations], adam = new double[iterations];
        for (int it = -2; it < iterations; it++) { // two warm-up steps
            params.zeroGradients();
            long t0 = System.nanoTime();
            TrainingStep s = trainer.forward(inputs, true);
            long t1 = System.nanoTime();
            trainer.backward(s, dOut);
            long t2 = System.nanoTime();
            opt.step(1e-5);
            long t3 = System.nanoTime();
            if (it >= 0) {
                fwd[it] = (t1 - t0) / 1e9;
                bwd[it] = (t2 - t1) / 1e9;
                adam[it] = (t3 - t2) / 1e9;
            }
        }
        double f = median(fwd), b = median(bwd), a = median(adam);
        System.out.printf("median of %d: forward %.3f s, backward %.3f s, AdamW %.3f s (zero grads excluded)%n",
                iterations, f, b, a);
        System.out.printf("forward+backward: %.0f tokens/s, %.1f GFLOP/s (forward alone %.1f GFLOP/s)%n",
                tokens / (f + b), flop / (f + b) / 1e9, flop / 3 / f / 1e9);
    }

    private static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static float[] gauss(Random r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    private static float[] gammas(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1f);
        return a;
    }

    private static BertWeights randomWeights(BertConfig c, long seed) {
        Random r = new Random(seed);
        int h = c.hidden(), in = c.intermediate();
        float s = 0.02f;
        BertWeights.Layer[] ls = new BertWeights.Layer[c.layers()];
        for (int l = 0; l < ls.length; l++) {
            ls[l] = new BertWeights.Layer(gauss(r, h * h, s), new float[h], gauss(r, h * h, s), new float[h],
                    gauss(r, h * h, s), new float[h], gauss(r, h * h, s), new float[h], gammas(h), new float[h],
                    gauss(r, h * in, s), new float[in], gauss(r, in * h, s), new float[h], gammas(h), new float[h]);
        }
        return new BertWeights(c, gauss(r, c.vocabSize() * h, s), gauss(r, c.maxPositions() * h, s),
                gauss(r, c.typeVocabSize() * h, s), gammas(h), new float[h], ls, null, null);
    }
}
