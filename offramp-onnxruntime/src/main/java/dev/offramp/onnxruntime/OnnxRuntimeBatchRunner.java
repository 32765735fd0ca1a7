package dev.offramp.onnxruntime;

import dev.offramp.api.BatchRunner;
import dev.offramp.api.Prediction;
import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.tokenizer.Encoding;

import java.util.List;

/**
 * The ONNX Runtime peer as a {@link BatchRunner}, so the server ({@code serve --engine onnxruntime}) and the Spark
 * stage (engine {@code onnxruntime}) put it behind the same batching as Offramp: ONNX Runtime runs the backbone's published
 * {@code .onnx} to its last hidden state (padded to the batch's longest input, as ORT needs), then the model's
 * pooling and its LAST exit head give the answer, the same head Offramp's full-depth runner uses.
 *
 * <p>Honesty note: ONNX Runtime runs the PUBLISHED backbone graph. For a model trained with a frozen backbone
 * that is exactly the model; for a fine-tuned backbone ({@link MultiExitModel#fineTunedBackbone()} != null) the
 * graph has the same architecture, size and therefore cost, but not the fine-tuned weights, so its answers are
 * not the model's. {@link #describe} says so in words a server or a job log can show; use this engine to compare speed.
 *
 * <p>Not thread-safe (one head activation buffer), as {@link BatchRunner} allows.
 */
public final class OnnxRuntimeBatchRunner implements BatchRunner, AutoCloseable {
    private final OnnxRuntimeEncoder ort;
    private final MultiExitModel model;
    private final ExitHeads heads;
    private final ExitHeads.Activations activations;
    private final List<String> labels;
    private final int layers, hidden, outputs;
    private float[] pooled = new float[0];

    /**
     * A runner on an open ONNX Runtime session.
     *
     * @param ort an open session on the backbone's .onnx; closed with this runner
     */
    public OnnxRuntimeBatchRunner(OnnxRuntimeEncoder ort, MultiExitModel model, List<String> labels) {
        this.ort = ort;
        this.model = model;
        this.heads = model.heads();
        this.layers = heads.layers;
        this.hidden = heads.hidden;
        this.outputs = heads.outputs;
        this.labels = List.copyOf(labels);
        if (ort.hidden() != hidden) {
            throw new IllegalArgumentException("the ONNX backbone's hidden size is " + ort.hidden() + ", the model's exits expect " + hidden);
        }
        this.activations = new ExitHeads.Activations(heads, 32);
    }

    /** True when ORT's answers are the model's own (the backbone was not fine-tuned). */
    public static boolean exact(MultiExitModel model) {
        return model.fineTunedBackbone() == null;
    }

    /** How this engine answers for the model, in one sentence for a log or model metadata (see the class comment). */
    public static String describe(MultiExitModel model) {
        return exact(model)
                ? "ONNX Runtime at full depth on the backbone's published ONNX graph (the model's backbone is"
                  + " frozen, so these are the model's answers), then the model's last exit"
                : "ONNX Runtime at full depth on the backbone's PUBLISHED ONNX graph, then the model's last exit;"
                  + " the model's backbone was fine-tuned, so the graph has the same size and cost but not its"
                  + " weights: use this engine to compare speed, not answers";
    }

    @Override
    public Prediction[] run(List<Encoding> inputs) {
        int n = inputs.size();
        if (n == 0) return new Prediction[0];
        float[][] last = ort.lastHidden(inputs);
        if (pooled.length < n * hidden) pooled = new float[n * hidden];
        int[] offset = {0}, length = new int[1];
        for (int i = 0; i < n; i++) {
            length[0] = inputs.get(i).length();
            model.layout().pooling().pool(last[i], offset, length, 1, hidden, pooled, i * hidden);
        }
        heads.forward(activations, layers, pooled, 0, n, 0f, null);
        float[] out = activations.probs();
        Prediction[] p = new Prediction[n];
        for (int i = 0; i < n; i++) p[i] = Prediction.of(out, i * outputs, outputs, layers, layers, Float.NaN, labels);
        return p;
    }

    /** Closes the ONNX Runtime session. */
    @Override
    public void close() {
        ort.close();
    }
}
