package dev.offramp.exits;

import dev.offramp.eval.calibration.ExitOutputs;
import dev.offramp.model.BertEncoder;
import dev.offramp.tokenizer.Encoding;

import java.util.List;
import java.util.Locale;

/**
 * Every exit's output for every sample: values (N, L, K), probabilities for classification, the score for
 * regression (K = 1). The cache the calibration of exit criteria works on: with it, any criterion and
 * threshold can be evaluated without running the model again.
 *
 * @param samples N
 * @param layers  L
 * @param outputs K
 * @param values  (N, L, K) row-major: sample n, exit i (1..L), class c at (n·L + i − 1)·K + c, the layout of
 *                the calibration code's ExitOutputs
 */
public record LayerwiseOutputs(int samples, int layers, int outputs, float[] values) {
    public LayerwiseOutputs {
        if ((long) samples * layers * outputs != values.length) {
            throw new IllegalArgumentException("values has " + values.length + " floats, expected N·L·K = "
                    + samples + "·" + layers + "·" + outputs);
        }
    }

    /** Runs the model to full depth on the inputs and records every exit's output. */
    public static LayerwiseOutputs compute(BertEncoder encoder, MultiExitModel model, List<Encoding> inputs,
                                           int maxBatch, int maxBatchTokens) {
        return compute(encoder, model, inputs, maxBatch, maxBatchTokens, null);
    }

    /** As above; progress (may be null) receives the number of inputs done. */
    public static LayerwiseOutputs compute(BertEncoder encoder, MultiExitModel model, List<Encoding> inputs,
                                           int maxBatch, int maxBatchTokens, java.util.function.IntConsumer progress) {
        ExitHeads heads = model.heads();
        if (encoder.config().layers() != heads.layers || encoder.config().hidden() != heads.hidden) {
            throw new IllegalArgumentException("encoder has " + encoder.config().layers() + " layers of width "
                    + encoder.config().hidden() + ", the exits expect " + heads.layers + " of width " + heads.hidden);
        }
        int n = inputs.size(), l = heads.layers, k = heads.outputs;
        float[] values = new float[n * l * k];
        ExitHeads.Activations act = new ExitHeads.Activations(heads, maxBatch);
        LayerwisePass.run(encoder, inputs, heads.layout.pooling(), maxBatch, maxBatchTokens,
                (exit, samples, pooled, b) -> {
                    heads.forward(act, exit, pooled, 0, b, 0f, null);
                    for (int s = 0; s < b; s++) {
                        System.arraycopy(act.probs, s * k, values, (samples[s] * l + exit - 1) * k, k);
                    }
                }, progress);
        return new LayerwiseOutputs(n, l, k, values);
    }

    /**
     * Outputs from pooled features already computed: pooledByLayer[i − 1] is (N, H) for exit i
     * (the frozen-mode feature cache).
     */
    public static LayerwiseOutputs fromPooled(ExitHeads heads, float[][] pooledByLayer, int n) {
        int l = heads.layers, k = heads.outputs, h = heads.hidden, chunk = 256;
        float[] values = new float[n * l * k];
        ExitHeads.Activations act = new ExitHeads.Activations(heads, chunk);
        for (int layer = 0; layer < l; layer++) {
            for (int s0 = 0; s0 < n; s0 += chunk) {
                int b = Math.min(chunk, n - s0);
                heads.forward(act, layer + 1, pooledByLayer[layer], s0 * h, b, 0f, null);
                for (int s = 0; s < b; s++) System.arraycopy(act.probs, s * k, values, ((s0 + s) * l + layer) * k, k);
            }
        }
        return new LayerwiseOutputs(n, l, k, values);
    }

    /**
     * The calibration code's view of the same numbers (the array is shared, not copied).
     *
     * @param gold (N) class index as a float, or the target score; NaN when unknown
     */
    public ExitOutputs toExitOutputs(float[] gold) {
        return new ExitOutputs(samples, layers, outputs, values, gold, null);
    }

    /** Output c of exit (1..L) for a sample. */
    public float get(int sample, int exit, int c) {
        return values[(sample * layers + exit - 1) * outputs + c];
    }

    /** argmax over classes of exit (1..L) for a sample (for K = 1: 0). */
    public int prediction(int sample, int exit) {
        int o = (sample * layers + exit - 1) * outputs, best = 0;
        for (int c = 1; c < outputs; c++) if (values[o + c] > values[o + best]) best = c;
        return best;
    }

    /** The per-layer outputs (L, K) of one sample, copied. */
    public float[] sample(int sample) {
        float[] out = new float[layers * outputs];
        System.arraycopy(values, sample * layers * outputs, out, 0, out.length);
        return out;
    }

    /** Accuracy of each exit alone; exit i at i − 1. */
    public double[] accuracyPerExit(int[] labels) {
        if (labels.length != samples) throw new IllegalArgumentException(labels.length + " labels for " + samples + " samples");
        double[] acc = new double[layers];
        for (int l = 0; l < layers; l++) {
            int correct = 0;
            for (int i = 0; i < samples; i++) if (prediction(i, l + 1) == labels[i]) correct++;
            acc[l] = samples == 0 ? Double.NaN : (double) correct / samples;
        }
        return acc;
    }

    /** Mean squared error of each exit's score (regression); exit i at i − 1. */
    public double[] msePerExit(float[] targets) {
        if (targets.length != samples) throw new IllegalArgumentException(targets.length + " targets for " + samples + " samples");
        double[] mse = new double[layers];
        for (int l = 0; l < layers; l++) {
            double s = 0;
            for (int i = 0; i < samples; i++) { double d = get(i, l + 1, 0) - targets[i]; s += d * d; }
            mse[l] = s / Math.max(1, samples);
        }
        return mse;
    }

    /** A per-exit table: one row per layer (1-based), one column per metric. */
    public static String table(List<String> columns, List<double[]> perExit) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-6s", "exit"));
        for (String c : columns) sb.append(String.format(Locale.ROOT, " %12s", c));
        sb.append('\n');
        int layers = perExit.isEmpty() ? 0 : perExit.get(0).length;
        for (int l = 0; l < layers; l++) {
            sb.append(String.format(Locale.ROOT, "%-6d", l + 1));
            for (double[] col : perExit) sb.append(String.format(Locale.ROOT, " %12.4f", col[l]));
            sb.append('\n');
        }
        return sb.toString();
    }
}
