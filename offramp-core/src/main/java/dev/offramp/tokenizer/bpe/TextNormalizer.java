package dev.offramp.tokenizer.bpe;

import com.fasterxml.jackson.databind.JsonNode;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The normalizer of a byte-level BPE tokenizer.json: none (GPT-2, Llama 3), NFC (Qwen 2), NFD, NFKC, NFKD, or a
 * Sequence of these. Anything else is refused with its type named, rather than silently skipped.
 */
final class TextNormalizer {
    private TextNormalizer() {}

    /** The identity for a null normalizer. */
    static UnaryOperator<String> fromJson(JsonNode node, String source) {
        if (node == null || node.isNull() || node.isMissingNode()) return UnaryOperator.identity();
        String type = node.path("type").asText("");
        return switch (type) {
            case "NFC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFC);
            case "NFD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFD);
            case "NFKC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKC);
            case "NFKD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKD);
            case "Sequence" -> {
                List<UnaryOperator<String>> steps = new ArrayList<>();
                for (JsonNode n : node.path("normalizers")) steps.add(fromJson(n, source));
                yield s -> {
                    for (UnaryOperator<String> step : steps) s = step.apply(s);
                    return s;
                };
            }
            default -> throw new IllegalArgumentException(source + ": unsupported normalizer type '" + type
                    + "' (supported for byte-level BPE: NFC, NFD, NFKC, NFKD, Sequence, or none)");
        };
    }
}
