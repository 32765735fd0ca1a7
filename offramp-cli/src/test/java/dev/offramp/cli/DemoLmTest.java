package dev.offramp.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The demonstration decoder kept in the repository (models/demo-lm), reached by name as a fresh clone would: it
 * loads, models held-out text far better than a unigram model of the same tokens, and its shipped exit policy
 * really lets generated tokens leave early.
 */
class DemoLmTest {
    /** Held-out perplexity of a unigram model of demo-lm's training tokens (train-lm prints it when it starts). */
    static final double UNIGRAM_PPL = 975.8;
    static final Pattern SUMMARY = Pattern.compile("summary: policy=full .* ppl=([0-9.]+) full_ppl=([0-9.]+)");
    static final Pattern EXIT = Pattern.compile("⟨([0-9]+)⟩");

    @Test
    void heldOutPerplexityIsFarBelowUnigram() {
        CliInputErrorsTest.Outcome o = CliInputErrorsTest.run("eval-gen", "--model", "demo-lm", "--policy", "full",
                "--prompts", "2", "--max-tokens", "4", "--ppl-docs", "16", "--ppl-tokens", "128", "--repeats", "1");
        assertEquals(0, o.code(), o.err());
        Matcher m = SUMMARY.matcher(o.out().strip().lines().toList().getLast());
        assertTrue(m.matches(), o.out());
        double ppl = Double.parseDouble(m.group(2));
        assertEquals(ppl, Double.parseDouble(m.group(1)), 1e-9, "full depth is its own early-exit policy here");
        assertTrue(ppl < UNIGRAM_PPL / 4, String.format(Locale.ROOT, "held-out perplexity %.1f vs unigram %.1f", ppl, UNIGRAM_PPL));
    }

    @Test
    void shippedPolicyExitsTokensEarly() {
        CliInputErrorsTest.Outcome o = CliInputErrorsTest.run("generate", "--model", "demo-lm", "--policy", "consistentee",
                "--threshold", "0.5", "--show-exits", "--max-tokens", "24",
                "This movie was");
        assertEquals(0, o.code(), o.err());
        List<Integer> exits = EXIT.matcher(o.out()).results().map(r -> Integer.parseInt(r.group(1))).toList();
        assertTrue(exits.size() >= 8 && exits.size() <= 24, "one exit layer per token, up to --max-tokens: " + o.out());
        assertEquals(12, exits.getFirst(), "the first token comes from the prompt's full-depth pass: " + o.out());
        assertTrue(exits.stream().allMatch(l -> l >= 1 && l <= 12), o.out());
        assertTrue(exits.stream().anyMatch(l -> l < 12), "no token left early: " + o.out());
        List<String> lines = o.out().strip().lines().toList();
        String text = EXIT.matcher(String.join("\n", lines.subList(1, lines.size() - 1))).replaceAll("");
        assertTrue(text.chars().filter(Character::isLetter).count() > 20, "the continuation has words: " + o.out());
    }

    /** The shipped draft adapter loads, drafts at its layer, and speculative decoding keeps full depth's output. */
    @Test
    void shippedDraftAdapterDraftsForSpeculativeDecoding() {
        CliInputErrorsTest.Outcome o = CliInputErrorsTest.run("eval-gen", "--model", "demo-lm", "--policy", "speculative",
                "--prompts", "2", "--max-tokens", "16", "--ppl-docs", "1", "--ppl-tokens", "16", "--repeats", "1");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("speculative(draft_layer=3, rows=4, draft adapter)"), o.out());
        Matcher m = Pattern.compile("([0-9.]+) tokens per verification").matcher(o.out());
        assertTrue(m.find() && Double.parseDouble(m.group(1)) > 1.5, "drafts are kept: " + o.out());
        assertTrue(o.out().strip().lines().toList().getLast().contains("rougeL_vs_full=1.0000"), o.out());
    }
}
