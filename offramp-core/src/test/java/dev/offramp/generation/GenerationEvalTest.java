package dev.offramp.generation;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class GenerationEvalTest {
    static final Pattern SUMMARY = Pattern.compile("summary: policy=(\\S+) tokens_per_s=([0-9.]+) full_tokens_per_s=([0-9.]+)"
            + " speedup=([0-9.]+) mean_exit_layer=([0-9.]+) rougeL_vs_full=([0-9.]+) ppl=([0-9.]+) full_ppl=([0-9.]+)");

    @Test
    void summaryLineAndWhatItMeasures() {
        EarlyExitDecoder d = TinyLm.decoder();
        List<int[]> docs = TinyLm.heldOut(200);
        List<int[]> prompts = GenerationEval.prompts(docs, 4, 10);
        GenerationEval.Options o = new GenerationEval.Options(4, 10, 12, 4, 48, KvMode.PROPAGATE, 2);

        GenerationEval.Report full = GenerationEval.run(d, "full", TokenCriteria.full(), prompts, docs, o);
        assertEquals(1.0, full.rougeL(), 1e-12);
        assertEquals(1.0, full.tokenMatch(), 1e-12);
        assertEquals(TinyLm.LAYERS, full.meanExitLayer(), 1e-12);
        assertEquals(full.fullPpl(), full.ppl(), 1e-9);
        assertEquals(4 * 11, full.tokens(), "the first repeat's tokens: 11 decoded after each prompt's full-depth first");
        assertEquals(3.0, GenerationEval.median(new double[]{5, 1, 3}));
        assertEquals(2.0, GenerationEval.median(new double[]{1, 3}));

        GenerationEval.Report first = GenerationEval.run(d, "static", new TokenCriteria.Static(1), prompts, docs, o);
        assertEquals(1.0, first.meanExitLayer(), 1e-12);
        assertTrue(first.rougeL() < 1, "one layer of four changes some tokens");
        assertTrue(first.ppl() > first.fullPpl(), first.summary());
        assertEquals(full.fullPpl(), first.fullPpl(), 1e-9);

        Matcher m = SUMMARY.matcher(first.summary());
        assertTrue(m.matches(), first.summary());
        assertEquals("static", m.group(1));
        double x = Double.parseDouble(m.group(2)), y = Double.parseDouble(m.group(3));
        assertEquals(x / y, Double.parseDouble(m.group(4)), 0.002 + 0.01 * x / y);
        assertEquals(first.rougeL(), Double.parseDouble(m.group(6)), 1e-4);

        // the histogram counts every decoded token at its exit layer, and its mean is the mean exit layer
        TokenExitCriterion margin = new TokenCriteria.TopMargin(0.3);
        GenerationEval.Generation g = GenerationEval.generation(d, margin, prompts, 12, KvMode.PROPAGATE, 1);
        int[] h = g.exitHistogram();
        assertEquals(TinyLm.LAYERS, h.length);
        long n = 0, sum = 0;
        for (int l = 1; l <= h.length; l++) {
            n += h[l - 1];
            sum += (long) l * h[l - 1];
        }
        assertEquals(g.tokens(), n);
        assertEquals(g.meanExitLayer(), (double) sum / n, 1e-12);
        assertEquals(4 * 11, GenerationEval.generation(d, new TokenCriteria.Static(2), prompts, 12, KvMode.PROPAGATE, 1)
                .exitHistogram()[1], "static at layer 2 puts every decoded token in bin 2");
    }
}
