package dev.offramp.cli;

import dev.offramp.model.EncoderBatch;
import dev.offramp.model.MaskedLmHead;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.tokenizer.WordPieceTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * ./offramp fill-mask: the masked-LM head's guesses for each [MASK], then the token the head would pick from every
 * layer's hidden state: the token-level view of early exit, and a one-line proof that pretrained weights run.
 */
@Command(name = "fill-mask", mixinStandardHelpOptions = true,
        description = "Predict the [MASK] tokens of a text with a model's masked-LM head (e.g. bert-base-uncased); "
                + "also shows the top token from every layer's hidden state.")
final class FillMaskCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "bert-base-uncased", description = "model name or folder (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--top-k", defaultValue = "5", description = "tokens to list per [MASK] (default: ${DEFAULT-VALUE})")
    int topK;

    @Parameters(arity = "1..*", description = "texts with one or more [MASK] tokens")
    List<String> texts;

    @Override
    public Integer call() {
        if (topK < 1) throw new IllegalArgumentException("--top-k must be at least 1, got " + topK);
        for (int i = 0; i < texts.size(); i++) {
            if (!texts.get(i).contains("[MASK]")) {
                throw new IllegalArgumentException("text " + (i + 1) + " has no [MASK]: write [MASK] where a word should be "
                        + "predicted, e.g. \"The capital of France is [MASK].\"");
            }
        }
        LoadedBackbone bb = LoadedBackbone.load(model);
        if (bb.model().maskedLm() == null) {
            throw new IllegalArgumentException("model " + model + " has no masked-LM head (cls/predictions): fill-mask "
                    + "needs a pretraining checkpoint such as bert-base-uncased");
        }
        WordPieceTokenizer tok = bb.tokenizer();
        if (tok.maskId() < 0) throw new IllegalArgumentException("the tokenizer of " + model + " has no [MASK] token");
        MaskedLmHead head = new MaskedLmHead(bb.model().weights(), bb.model().maskedLm());
        int layers = bb.model().config().layers(), h = bb.model().config().hidden(), v = head.vocabSize();
        String summary = null;
        for (String text : texts) {
            Encoding enc = tok.encode(text, bb.model().config().maxPositions());
            List<Integer> masks = new ArrayList<>();
            for (int t = 0; t < enc.length(); t++) if (enc.ids()[t] == tok.maskId()) masks.add(t);
            if (masks.isEmpty()) throw new IllegalArgumentException("no [MASK] token left in \"" + text + "\" after tokenizing");
            int[] rows = new int[masks.size()];
            EncoderBatch batch = bb.encoder().start(bb.encoder().newBatch(), List.of(enc));
            // perLayer[l][m]: the best token for mask m from the hidden state after layer l + 1
            MaskedLmHead.Token[][] perLayer = new MaskedLmHead.Token[layers][masks.size()];
            float[] logits = null;
            for (int l = 0; l < layers; l++) {
                bb.encoder().layer(batch);
                for (int m = 0; m < rows.length; m++) rows[m] = (batch.offset(0) + masks.get(m)) * h;
                logits = head.logits(batch.hidden(), rows);
                for (int m = 0; m < rows.length; m++) perLayer[l][m] = MaskedLmHead.topK(logits, m * v, v, 1).getFirst();
            }
            System.out.println("text: " + text);
            for (int m = 0; m < rows.length; m++) {
                System.out.printf(Locale.ROOT, "[MASK] %d of %d (token %d):%n", m + 1, rows.length, masks.get(m));
                List<MaskedLmHead.Token> top = MaskedLmHead.topK(logits, m * v, v, topK);
                for (int j = 0; j < top.size(); j++) {
                    System.out.printf(Locale.ROOT, "  %2d. %-16s %.4f%n", j + 1, tok.token(top.get(j).id()), top.get(j).probability());
                }
                System.out.println("  layer  top-1            p");
                for (int l = 0; l < layers; l++) {
                    MaskedLmHead.Token t = perLayer[l][m];
                    System.out.printf(Locale.ROOT, "  %5d  %-16s %.4f%n", l + 1, tok.token(t.id()), t.probability());
                }
                if (summary == null) {
                    summary = String.format(Locale.ROOT, "summary: top1=%s p=%.4f", tok.token(top.getFirst().id()),
                            top.getFirst().probability());
                }
            }
        }
        System.out.println(summary);
        return 0;
    }
}
