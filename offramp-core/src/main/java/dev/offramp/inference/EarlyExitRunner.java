package dev.offramp.inference;

import dev.offramp.criteria.ExitCriterion;
import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.PolicySource;
import dev.offramp.model.BertEncoder;
import dev.offramp.model.EncoderBatch;
import dev.offramp.tokenizer.Encoding;

import java.util.Arrays;
import java.util.List;

/**
 * Runs a batch layer by layer and lets every sample leave at its own exit. After layer i the exit heads run only
 * on the samples still in the batch, the criterion decides per sample, and the samples that exit are removed
 * from the batch (compaction), so the next layer's matrix products shrink with it. Stops when none is left.
 *
 * <p>The runner is cheap to create and NOT thread-safe (it owns its batch buffers and deciders); the encoder and
 * the model it reads are shared and read-only, so a server makes one runner per worker thread.
 */
public final class EarlyExitRunner {
    /**
     * What one input got: the prediction (class index, or -1 for regression), the exit's output, where it left, and
     * the statistic the criterion compared when it let the sample go ({@link ExitCriterion.Decider#statistic()}:
     * max-prob's c, BEEM's S, ...; NaN at full depth, where no criterion runs).
     */
    public record Result(int label, float[] output, int exitLayer, float confidence) {
        /** The regression score (output[0]) or the probability of the predicted class. */
        public float score() {
            return label < 0 ? output[0] : output[label];
        }
    }

    private final BertEncoder encoder;
    private final ExitHeads heads;
    private final MultiExitModel model;
    private final ExitCriterion criterion;
    private final PolicySource policy;
    private final int layers, outputs, hidden;

    private final EncoderBatch batch;
    private final ExitHeads.Activations activations;
    private float[] pooled = new float[0];
    private float[] policyProbs = new float[0];
    private ExitCriterion.Decider[] deciders = new ExitCriterion.Decider[0];
    private boolean[] exited = new boolean[0];

    public EarlyExitRunner(BertEncoder encoder, MultiExitModel model, ExitCriterion criterion, PolicySource policy) {
        this.encoder = encoder;
        this.model = model;
        this.heads = model.heads();
        this.criterion = criterion;
        this.policy = policy;
        this.layers = encoder.config().layers();
        this.outputs = heads.outputs;
        this.hidden = encoder.config().hidden();
        if (heads.layers != layers) {
            throw new IllegalArgumentException("the model has " + heads.layers + " exits but the backbone has " + layers + " layers");
        }
        this.batch = encoder.newBatch();
        this.activations = new ExitHeads.Activations(heads, 32);
        criterion.start(layers, outputs); // fail now, not mid-batch, if the criterion cannot serve this task
    }

    /** Runs the inputs as one batch; results in input order. */
    public Result[] run(List<Encoding> inputs) {
        Result[] results = new Result[inputs.size()];
        run(inputs, results, 0);
        return results;
    }

    /** Runs the inputs as one batch, writing results[resultOffset + i] for input i. */
    public void run(List<Encoding> inputs, Result[] results, int resultOffset) {
        run(inputs, results, resultOffset, null);
    }

    /**
     * As {@link #run(List, Result[], int)}, with gold labels (or scores) for input i at gold[resultOffset + i]:
     * only the oracle bound reads them.
     */
    public void run(List<Encoding> inputs, Result[] results, int resultOffset, float[] gold) {
        int n = inputs.size();
        if (n == 0) return;
        ensure(n);
        for (int i = 0; i < n; i++) deciders[i].reset(gold == null ? ExitCriterion.NO_GOLD : gold[resultOffset + i]);
        encoder.start(batch, inputs);
        for (int layer = 1; layer <= layers && batch.size() > 0; layer++) {
            encoder.layer(batch);
            int b = batch.size();
            model.layout().pooling().pool(batch, hidden, pooled, 0);
            heads.forward(activations, layer, pooled, 0, b, 0f, null);
            if (policy != null) policy.exitProbabilities(layer, pooled, b, policyProbs);
            float[] out = activations.probs();
            boolean any = false;
            for (int pos = 0; pos < b; pos++) {
                int id = batch.sampleId(pos);
                float pi = policy != null ? policyProbs[pos] : Float.NaN;
                exited[pos] = deciders[id].observe(layer, out, pos * outputs, pi);
                if (exited[pos]) {
                    results[resultOffset + id] = result(out, pos * outputs, layer, (float) deciders[id].statistic());
                    any = true;
                }
            }
            if (any) batch.retain(pos -> !exited[pos]);
        }
    }

    /**
     * The full model, the baseline of every speed-up: all layers, then only the last exit's classifier
     * (no intermediate exits evaluated, no criterion).
     */
    public void runFullDepth(List<Encoding> inputs, Result[] results, int resultOffset) {
        int n = inputs.size();
        if (n == 0) return;
        ensure(n);
        encoder.start(batch, inputs);
        encoder.runToEnd(batch);
        model.layout().pooling().pool(batch, hidden, pooled, 0);
        heads.forward(activations, layers, pooled, 0, n, 0f, null);
        float[] out = activations.probs();
        for (int pos = 0; pos < n; pos++) results[resultOffset + batch.sampleId(pos)] = result(out, pos * outputs, layers, Float.NaN);
    }

    private Result result(float[] out, int off, int layer, float confidence) {
        float[] o = Arrays.copyOfRange(out, off, off + outputs);
        if (outputs == 1) return new Result(-1, o, layer, confidence);
        int best = 0;
        for (int c = 1; c < outputs; c++) if (o[c] > o[best]) best = c;
        return new Result(best, o, layer, confidence);
    }

    private void ensure(int n) {
        if (deciders.length < n) {
            int old = deciders.length;
            deciders = Arrays.copyOf(deciders, n);
            for (int i = old; i < n; i++) deciders[i] = criterion.start(layers, outputs);
            exited = new boolean[n];
            pooled = new float[n * hidden];
            policyProbs = new float[n];
        }
    }

    public ExitCriterion criterion() {
        return criterion;
    }
}
