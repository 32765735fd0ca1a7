package dev.offramp.generation;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * eval-gen: one criterion against full depth on held-out text, same engine, same run.
 * <ul>
 *   <li>generation: greedy continuations of held-out prompts, full depth and early exit interleaved prompt by
 *       prompt (after one warm-up of each), repeated; tokens/s (median over the repeats) counts the tokens decoded after the prompt over the time of
 *       those steps (batch 1); mean exit layer over the same tokens; token match rate = positions where the two
 *       continuations agree over the longer one's length; ROUGE-L F1 on token ids, averaged over prompts;</li>
 *   <li>perplexity: teacher forcing on held-out documents, each token's distribution from its exit layer (with the
 *       KV of the skipped layers as the mode gives it), against full depth.</li>
 * </ul>
 */
public final class GenerationEval {
    private GenerationEval() {}

    /**
     * prompts × promptTokens → maxTokens each; perplexity on pplDocs documents of up to pplTokens; the prompts are
     * generated from {@code repeats} times and each speed is the median over the repeats (the machine is shared).
     */
    public record Options(int prompts, int promptTokens, int maxTokens, int pplDocs, int pplTokens, KvMode mode,
                          int repeats) {
        public Options {
            if (repeats < 1) throw new IllegalArgumentException("repeats must be >= 1, got " + repeats);
        }

        public Options withMode(KvMode m) {
            return new Options(prompts, promptTokens, maxTokens, pplDocs, pplTokens, m, repeats);
        }
    }

    public record Report(String policy, double tokensPerSecond, double fullTokensPerSecond, double meanExitLayer,
                         int layers, double tokenMatch, double rougeL, double ppl, double fullPpl, int prompts,
                         long tokens, double tokensPerVerification) {
        public double speedup() {
            return tokensPerSecond / fullTokensPerSecond;
        }

        /** The last line of eval-gen. */
        public String summary() {
            return String.format(Locale.ROOT, "summary: policy=%s tokens_per_s=%.1f full_tokens_per_s=%.1f speedup=%.3f"
                            + " mean_exit_layer=%.3f rougeL_vs_full=%.4f ppl=%.3f full_ppl=%.3f", policy, tokensPerSecond,
                    fullTokensPerSecond, speedup(), meanExitLayer, rougeL, ppl, fullPpl);
        }
    }

    /** Held-out token sequences (BOS first) long enough to give a prompt of promptTokens and something after it. */
    public static List<int[]> prompts(List<int[]> docs, int count, int promptTokens) {
        List<int[]> out = new ArrayList<>();
        for (int[] d : docs) {
            if (out.size() == count) break;
            if (d.length >= promptTokens + 4) out.add(java.util.Arrays.copyOf(d, promptTokens));
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no held-out document has " + (promptTokens + 4) + " tokens");
        return out;
    }

    /**
     * The generation half of eval-gen: full depth and early exit on the same prompts, interleaved, timed; exitHistogram
     * counts the tokens decoded after the prompt by exit layer (1..L).
     */
    public record Generation(double tokensPerSecond, double fullTokensPerSecond, double meanExitLayer, int[] exitHistogram,
                             double tokenMatch, double rougeL, int prompts, long tokens, double tokensPerVerification) {
        public double speedup() {
            return tokensPerSecond / fullTokensPerSecond;
        }
    }

    public static Report run(EarlyExitDecoder d, String policyName, TokenExitCriterion c, List<int[]> promptList,
                             List<int[]> pplDocs, Options o) {
        Generation g = generation(d, c, promptList, o.maxTokens(), o.mode(), o.repeats());
        double[] ppl = perplexities(d, c, pplDocs, o);
        return new Report(policyName, g.tokensPerSecond(), g.fullTokensPerSecond(), g.meanExitLayer(),
                d.model().config().layers(), g.tokenMatch(), g.rougeL(), ppl[0], ppl[1], g.prompts(), g.tokens(),
                g.tokensPerVerification());
    }

    public static Generation generation(EarlyExitDecoder d, TokenExitCriterion c, List<int[]> promptList, int maxTokens,
                                        KvMode mode, int repeats) {
        if (repeats < 1) throw new IllegalArgumentException("repeats must be >= 1, got " + repeats);
        int layers = d.model().config().layers();
        int longest = promptList.stream().mapToInt(p -> p.length).max().orElse(1);
        EarlyExitDecoder.Session s = d.newSession(longest + maxTokens, longest);
        TokenExitCriterion full = TokenCriteria.full();
        d.generate(s, promptList.get(0), maxTokens, full, mode, null);     // warm-up
        d.generate(s, promptList.get(0), maxTokens, c, mode, null);
        double[] fullRate = new double[repeats], earlyRate = new double[repeats];
        long earlySteps = 0, layerSum = 0, match = 0, positions = 0, verifications = 0;
        int[] histogram = new int[layers];
        double rouge = 0;
        for (int rep = 0; rep < repeats; rep++) {
            long fullNanos = 0, earlyNanos = 0, fullSteps = 0, steps = 0;
            for (int[] p : promptList) {
                EarlyExitDecoder.Generated f = d.generate(s, p, maxTokens, full, mode, null);
                EarlyExitDecoder.Generated e = d.generate(s, p, maxTokens, c, mode, null);
                fullNanos += f.decodeNanos();
                earlyNanos += e.decodeNanos();
                fullSteps += f.tokens().length - 1;
                steps += e.tokens().length - 1;
                if (rep > 0) continue;                       // the outputs are the same every repeat
                verifications += e.verifications();
                for (int i = 1; i < e.exitLayers().length; i++) {
                    layerSum += e.exitLayers()[i];
                    histogram[e.exitLayers()[i] - 1]++;
                }
                for (int i = 0; i < Math.min(f.tokens().length, e.tokens().length); i++) if (f.tokens()[i] == e.tokens()[i]) match++;
                positions += Math.max(f.tokens().length, e.tokens().length);
                rouge += RougeL.f1(e.tokens(), f.tokens());
            }
            fullRate[rep] = fullSteps / (fullNanos / 1e9);
            earlyRate[rep] = steps / (earlyNanos / 1e9);
            if (rep == 0) earlySteps = steps;
        }
        return new Generation(median(earlyRate), median(fullRate), (double) layerSum / Math.max(1, earlySteps), histogram,
                (double) match / positions, rouge / promptList.size(), promptList.size(), earlySteps,
                verifications == 0 ? Double.NaN : (double) earlySteps / verifications);
    }

    static double median(double[] x) {
        double[] y = x.clone();
        java.util.Arrays.sort(y);
        return y.length % 2 == 1 ? y[y.length / 2] : (y[y.length / 2 - 1] + y[y.length / 2]) / 2;
    }

    /** {early-exit perplexity, full-depth perplexity} on the documents, the first token as the prompt. */
    public static double[] perplexities(EarlyExitDecoder d, TokenExitCriterion c, List<int[]> docs, Options o) {
        return new double[]{perplexity(d, c, docs, o), perplexity(d, TokenCriteria.full(), docs, o)};
    }

    /**
     * Teacher-forced perplexity with the criterion on the first pplDocs documents of at least two tokens (each cut to
     * pplTokens), the first token as the prompt.
     */
    public static double perplexity(EarlyExitDecoder d, TokenExitCriterion c, List<int[]> docs, Options o) {
        EarlyExitDecoder.Session s = d.newSession(o.pplTokens(), 1);
        double nll = 0;
        long count = 0;
        int used = 0;
        for (int[] doc : docs) {
            if (used == o.pplDocs()) break;
            if (doc.length < 2) continue;
            int n = Math.min(doc.length, o.pplTokens());
            int[] prompt = {doc[0]}, text = java.util.Arrays.copyOfRange(doc, 1, n);
            nll += d.force(s, prompt, text, c, o.mode()).nll();
            count += text.length;
            used++;
        }
        return Math.exp(nll / count);
    }
}
