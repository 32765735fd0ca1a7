package dev.offramp.server;

import dev.offramp.serving.InferenceScheduler;
import dev.offramp.tokenizer.Encoding;

import java.util.List;

/**
 * What the HTTP routes serve: a model's public description, how its texts become encodings, and the scheduler
 * that answers them. {@link OfframpServer#start(ServerConfig)} builds one from a model folder; tests and embedders
 * can hand their own to {@link OfframpServer#start(ServerConfig, ServedModel)}.
 *
 * @param name      the name clients use in {@code /v2/models/{name}}
 * @param version   the model version reported by the metadata route
 * @param platform  what runs it, for the OIP metadata ("offramp" or "onnxruntime")
 * @param labels    the class names in output order; empty for a regression task
 * @param layers    the backbone's number of layers (the deepest exit)
 * @param maxTokens the most tokens one input (or pair) may have
 * @param note      a sentence shown in the metadata about how answers are made (e.g. ONNX Runtime's backbone), or null
 * @param encoder   text (or pair) to encoding; throws IllegalArgumentException naming what is wrong
 * @param scheduler the batching scheduler every request goes through
 */
public record ServedModel(String name, String version, String platform, List<String> labels, int layers,
                          int maxTokens, String note, TextEncoder encoder, InferenceScheduler scheduler) {

    /** Turns one input into token ids. */
    @FunctionalInterface
    public interface TextEncoder {
        /**
         * The encoding of one input.
         *
         * @param text     the text, never null
         * @param pair     the second text of a pair, or null
         * @param truncate cut an input longer than the model's limit instead of refusing it
         * @throws IllegalArgumentException naming the problem (empty text, too many tokens, ...)
         */
        Encoding encode(String text, String pair, boolean truncate);
    }

    /** Checks the name; copies the labels. */
    public ServedModel {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a served model needs a name");
        labels = List.copyOf(labels);
    }

    /** True for a regression model (no class labels). */
    public boolean regression() {
        return labels.isEmpty();
    }

    /** Outputs per input: the number of classes, or 1 (the score) for regression. */
    public int outputs() {
        return regression() ? 1 : labels.size();
    }
}
